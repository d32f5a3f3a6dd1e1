import crypto from 'node:crypto';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeXdm } from '../../../src/main/documents';
import { buildDocumentMessage, newMessageId } from '../../../src/main/mssante/message-build';
import { SETTING_READ_WORKERS } from '../../../src/main/mssante/mail-read-pool';
import { PROCESSED_KEYWORD } from '../../../src/main/mssante/wire-profile';
import { craftZip } from '../../unit/documents/zip-craft';
import { APP, SENDER, appendRaw, mailboxState, makeCda, startMailWorld, type MailWorld } from './harness';

/**
 * Hostile mails delivered to the applicative mailbox of a real Dovecot: malformed MIME, zip bombs, external
 * entities / billion laughs in METADATA.XML and in the CDA, a 25 MB attachment, non-UTF-8 headers. Each one
 * must be rejected with a 906 error MDN when Disposition-Notification-To asks for one (never otherwise),
 * nothing integrated, nothing lost (still in the mailbox, flagged, journaled), and the batch goes on (a
 * well-formed message in the same sync is integrated).
 */
const SUBSET = 'IHE_XDM/SUBSET01';
const XXE = '<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>';
const LAUGHS =
  '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
  '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">' +
  '<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">' +
  '<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">' +
  '<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>';

let world: MailWorld;

/** Inserts a DOCTYPE after the XML declaration (or at the start) and references the entity in the first text. */
function withDoctype(xml: string, doctype: string, entity: string): string {
  const decl = /^<\?xml[^>]*\?>\s*/.exec(xml)?.[0] ?? '';
  const rest = xml.slice(decl.length);
  const injected = rest.replace(/<title>([^<]*)<\/title>/, `<title>$1&${entity};</title>`).replace(/(<rim:Value>)([^<]*)(<\/rim:Value>)/, `$1$2&${entity};$3`);
  return `${decl}${doctype}\n${injected}`;
}

async function mail(opts: { subject?: string; zip?: Buffer; dnt?: boolean; extra?: { filename: string; content: Buffer; contentType: string }[] }): Promise<{ raw: Buffer; messageId: string }> {
  const messageId = newMessageId(SENDER);
  const raw = await new MailComposer({
    from: SENDER,
    to: APP,
    subject: opts.subject ?? 'XDM/1.0/DDM+Compte rendu',
    text: 'Document ci-joint.',
    messageId,
    date: new Date(),
    headers: [{ key: 'X-MSS-NIL', value: 'test' }, ...(opts.dnt === false ? [] : [{ key: 'Disposition-Notification-To', value: SENDER }])],
    attachments: [...(opts.zip ? [{ filename: 'IHE_XDM.zip', content: opts.zip, contentType: 'application/zip' }] : []), ...(opts.extra ?? [])],
  })
    .compile()
    .build();
  return { raw, messageId };
}

/** A legitimate XDM for a fresh document, plus its parts to tamper with. */
async function xdmParts(name: string): Promise<{ meta: string; cda: Buffer }> {
  const { built } = makeCda(world, name);
  const w = await writeXdm([built.parsed], { sourceId: '1.2.250.1.999.1', companionPdfs: false });
  return { meta: w.metadataXml, cda: Buffer.from(built.bytes) };
}

/** An XDM whose CDA is replaced by `cda`, METADATA hash/size updated so that only the CDA content is hostile. */
function xdmWithCda(meta: string, originalCda: Buffer, cda: Buffer): Buffer {
  const oldHash = crypto.createHash('sha1').update(originalCda).digest('hex');
  const newHash = crypto.createHash('sha1').update(cda).digest('hex');
  const m = meta
    .replace(new RegExp(oldHash, 'gi'), newHash)
    .replace(/(<rim:Slot name="size"><rim:ValueList><rim:Value>)\d+(<\/rim:Value>)/, `$1${cda.length}$2`);
  return craftZip([
    { name: `${SUBSET}/METADATA.XML`, data: Buffer.from(m), deflate: true },
    { name: `${SUBSET}/DOC0001.XML`, data: cda, deflate: true },
  ]);
}

interface Case {
  name: string;
  messageId: string;
  dnt: boolean;
  /** Kind of the outcome: a refused archive/message is `rejected`; a bad CDA inside a good archive is a rejected document. */
  expectKind: 'rejected' | 'document';
  detail: RegExp;
  bigOriginal?: boolean;
}

const cases: Case[] = [];
const GOOD_MAILS = 10;
const goodMessageIds: string[] = [];
let readOn = '';
let outcomes: Map<string, any>;
let mdnsSent: any[];
let integratedBefore = 0;

describe('hostile mails against Dovecot + Postfix', () => {
  beforeAll(async () => {
    world = await startMailWorld('lps-mss-hostile-');
    integratedBefore = 0;
    const add = async (name: string, m: { raw: Buffer; messageId: string }, c: Omit<Case, 'name' | 'messageId'>) => {
      await appendRaw(world, APP, m.raw);
      cases.push({ name, messageId: m.messageId, ...c });
    };

    // 1. Malformed MIME: the boundary announced in the header never appears; the archive is unreachable.
    {
      const good = await mail({ zip: craftZip([{ name: 'x', data: Buffer.from('x') }]) });
      const text = good.raw.toString('latin1');
      const boundary = /boundary="([^"]+)"/.exec(text)![1]!;
      const broken = text.replace(`boundary="${boundary}"`, 'boundary="--nowhere--"');
      await add('malformed MIME (boundary mismatch)', { raw: Buffer.from(broken, 'latin1'), messageId: good.messageId }, { dnt: true, expectKind: 'rejected', detail: /without IHE_XDM\.zip/ });
    }
    // 2. Malformed MIME: truncated in the middle of the base64 archive, no closing boundary, garbage bytes.
    {
      const p = await xdmParts('m2.xml');
      const good = await mail({ zip: craftZip([{ name: `${SUBSET}/METADATA.XML`, data: Buffer.from(p.meta), deflate: true }, { name: `${SUBSET}/DOC0001.XML`, data: p.cda, deflate: true }]) });
      const text = good.raw.toString('latin1');
      const at = text.indexOf('filename=IHE_XDM.zip');
      const cut = text.slice(0, at + 300) + '\r\n\u00ff\u00fe%%%%not base64%%%%\r\n';
      await add('malformed MIME (truncated archive)', { raw: Buffer.from(cut, 'latin1'), messageId: good.messageId }, { dnt: true, expectKind: 'rejected', detail: /XDM refused/ });
    }
    // 3. Zip bomb, honest headers: 64 MB of zeros (ratio ~1000:1).
    {
      const p = await xdmParts('b1.xml');
      const zip = craftZip([
        { name: `${SUBSET}/METADATA.XML`, data: Buffer.from(p.meta), deflate: true },
        { name: `${SUBSET}/DOC0001.XML`, data: Buffer.alloc(64 * 1024 * 1024), deflate: true },
      ]);
      await add('zip bomb (ratio)', await mail({ zip }), { dnt: true, expectKind: 'rejected', detail: /XDM_RATIO/ });
    }
    // 4. Zip bomb, lying headers: declares the CDA's size, inflates to 128 MB.
    {
      const p = await xdmParts('b2.xml');
      const zip = craftZip([
        { name: `${SUBSET}/METADATA.XML`, data: Buffer.from(p.meta), deflate: true },
        { name: `${SUBSET}/DOC0001.XML`, data: Buffer.alloc(128 * 1024 * 1024, 0x20), deflate: true, declaredSize: p.cda.length },
      ]);
      await add('zip bomb (lying sizes)', await mail({ zip }), { dnt: true, expectKind: 'rejected', detail: /XDM_TOO_LARGE/ });
    }
    // 5-6. External entity and billion laughs in METADATA.XML.
    for (const [label, doctype, entity] of [
      ['external entity in METADATA.XML', XXE, 'xxe'],
      ['billion laughs in METADATA.XML', LAUGHS, 'lol9'],
    ] as const) {
      const p = await xdmParts(`md-${entity}.xml`);
      const zip = craftZip([
        { name: `${SUBSET}/METADATA.XML`, data: Buffer.from(withDoctype(p.meta, doctype, entity)), deflate: true },
        { name: `${SUBSET}/DOC0001.XML`, data: p.cda, deflate: true },
      ]);
      await add(label, await mail({ zip }), { dnt: true, expectKind: 'rejected', detail: /XDM_METADATA_INVALID/ });
    }
    // 7-8. External entity and billion laughs in the CDA (METADATA hash/size consistent with it).
    for (const [label, doctype, entity, dnt] of [
      ['external entity in the CDA', XXE, 'xxe', true],
      ['billion laughs in the CDA, no MDN asked', LAUGHS, 'lol9', false],
    ] as const) {
      const p = await xdmParts(`cda-${entity}.xml`);
      const hostile = Buffer.from(withDoctype(p.cda.toString('utf8'), doctype, entity), 'utf8');
      await add(label, await mail({ zip: xdmWithCda(p.meta, p.cda, hostile), dnt }), { dnt, expectKind: 'document', detail: /XDM_DOCUMENT_XML_INVALID|XML/ });
    }
    // 9. A 25 MB attachment next to a valid archive: not downloaded, refused from its headers.
    {
      const p = await xdmParts('big.xml');
      const zip = craftZip([{ name: `${SUBSET}/METADATA.XML`, data: Buffer.from(p.meta), deflate: true }, { name: `${SUBSET}/DOC0001.XML`, data: p.cda, deflate: true }]);
      const m = await mail({ zip, extra: [{ filename: 'scan.pdf', content: crypto.randomBytes(25 * 1024 * 1024), contentType: 'application/pdf' }] });
      await add('25 MB attachment', m, { dnt: true, expectKind: 'rejected', detail: /too large/, bigOriginal: true });
    }
    // 10. Non-UTF-8 (raw ISO-8859-1) bytes in the headers of an otherwise valid document mail.
    {
      const { built } = makeCda(world, 'latin1.xml');
      const b = await buildDocumentMessage({ from: SENDER, to: [APP], cdas: [built.parsed], ack: { read: true }, nil: 'test', sourceId: '1.2.250.1.999.1', subject: 'Compte rendu' });
      const text = b.raw.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      const head = text
        .slice(0, headEnd)
        .replace(/^Subject: .*$/m, 'Subject: XDM/1.0/DDM+R\u00e9sultat d\u00e9finitif')
        .replace(/^From: .*$/m, `From: "Dr J\u00e9r\u00f4me M\u00fcller" <${SENDER}>`);
      await add('non-UTF-8 headers', { raw: Buffer.from(head + text.slice(headEnd), 'latin1'), messageId: b.messageId }, { dnt: true, expectKind: 'rejected', detail: /UTF-8/ });
    }
    // Control: well-formed document mails in the same batch — enough of them for a large delivery, which a machine
    // with workers reads on worker threads.
    for (let i = 0; i < GOOD_MAILS; i++) {
      const { built } = makeCda(world, `good${i}.xml`);
      const b = await buildDocumentMessage({ from: SENDER, to: [APP], cdas: [built.parsed], ack: { read: true }, nil: 'test', sourceId: '1.2.250.1.999.1' });
      await appendRaw(world, APP, b.raw);
      goodMessageIds.push(b.messageId);
    }
    // Read on two workers whatever this machine's cores (by default a 2-core machine has one).
    world.core.settings.set(SETTING_READ_WORKERS, 2);
    const r = await world.core.registry.call('mssante.sync', { account: APP });
    const done = world.core.db.prepare(`SELECT details FROM audit WHERE action = 'mssante.sync.done' ORDER BY id DESC LIMIT 1`).get() as { details: string };
    readOn = (JSON.parse(done.details) as { readOn: string }).readOn;
    outcomes = new Map(r.messages.map((m) => [m.messageId ?? '', m]));
    mdnsSent = r.mdnsSent;
  }, 120_000);

  afterAll(async () => {
    await world?.stop();
  });

  it('processes the whole batch: every hostile mail has an outcome, the well-formed one is integrated', () => {
    expect(readOn).toBe('workers');
    expect(outcomes.size).toBe(cases.length + GOOD_MAILS);
    for (const id of goodMessageIds) expect(outcomes.get(id)).toMatchObject({ kind: 'document', documents: [{ result: 'integrated' }], mdn: { disposition: 'processed' } });
  });

  it('rejects each hostile mail with code 906 and the specific reason, integrating nothing', () => {
    for (const c of cases) {
      const o = outcomes.get(c.messageId);
      expect(o, c.name).toBeDefined();
      expect(o.kind, c.name).toBe(c.expectKind);
      if (c.expectKind === 'rejected') {
        expect(o.error?.code, c.name).toBe('906');
        expect(o.error?.detail, c.name).toMatch(c.detail);
        expect(o.documents, c.name).toEqual([]);
      } else {
        expect(o.documents.length, c.name).toBeGreaterThan(0);
        for (const d of o.documents) {
          expect(d.result, c.name).toBe('rejected');
          expect(d.code, c.name).toBe('906');
          expect(d.detail, c.name).toMatch(c.detail);
        }
      }
      const held = world.core.db.prepare(`SELECT COUNT(*) AS n FROM mss_documents WHERE message_id = ? AND status != 'rejected'`).get(c.messageId) as { n: number };
      expect(held.n, c.name).toBe(0);
    }
    const integrated = (world.core.db.prepare(`SELECT COUNT(*) AS n FROM mss_documents WHERE status = 'integrated'`).get() as { n: number }).n;
    expect(integrated - integratedBefore).toBe(GOOD_MAILS); // the control messages only
  });

  it('answers with an error MDN (906, KO subject, original re-attached) exactly when one is asked', async () => {
    for (const c of cases) {
      const o = outcomes.get(c.messageId);
      if (!c.dnt) {
        expect(o.mdn, c.name).toBeUndefined();
        continue;
      }
      expect(o.mdn, c.name).toMatchObject({ disposition: 'error', code: '906' });
      const sent = mdnsSent.find((x) => x.id === o.mdn.outboxId);
      expect(sent?.status, c.name).toBe('sent');
      const row = world.core.db.prepare('SELECT raw_blob, recipients FROM mss_outbox WHERE id = ?').get(o.mdn.outboxId) as { raw_blob: string; recipients: string };
      const raw = world.core.blobs.get(row.raw_blob).toString('latin1');
      expect(raw, c.name).toMatch(/Disposition: automatic-action\/MDN-sent-automatically; processed\/Error: 906\^/);
      expect(raw, c.name).toMatch(/report-type=disposition-notification/);
      expect(raw, c.name).toContain(`Original-Message-ID: ${c.messageId}`);
      // The subject is ASCII or RFC 2047 encoded: never raw 8-bit bytes, even when the original's were.
      const subject = /^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(raw)![1]!;
      expect(/[\u0080-\u00ff]/.test(subject), c.name).toBe(false);
      expect((await simpleParser(`Subject: ${subject}\r\n\r\n`)).subject, c.name).toMatch(/^\[KO Intégration système !\]\[906\] XDM\/1\.0\/DDM\+/);
      if (c.bigOriginal) {
        expect(raw, c.name).toContain('Content-Type: text/rfc822-headers');
        expect(raw.length, c.name).toBeLessThan(256 * 1024);
      } else {
        expect(raw, c.name).toContain('Content-Type: message/rfc822');
      }
    }
  });

  it('loses nothing: every hostile mail stays in the mailbox, flagged as processed, and journaled once', async () => {
    const box = await mailboxState(world, APP);
    expect(box.length).toBe(cases.length + GOOD_MAILS);
    for (const m of box) expect(m.flags).toContain(PROCESSED_KEYWORD);
    expect(box.some((m) => m.size > 25 * 1024 * 1024)).toBe(true);
    for (const c of cases) {
      const j = world.core.db.prepare('SELECT kind, outcome FROM mss_journal WHERE account = ? AND message_id = ?').all(APP, c.messageId) as { kind: string; outcome: string }[];
      expect(j, c.name).toHaveLength(1);
      expect(j[0]!.outcome, c.name).toMatch(/rejected|partial/);
    }
    // A second sync finds nothing new and sends nothing twice.
    const again = await world.core.registry.call('mssante.sync', { account: APP });
    expect(again.messages).toEqual([]);
    expect((world.core.db.prepare(`SELECT COUNT(*) AS n FROM mss_outbox WHERE kind = 'mdn'`).get() as { n: number }).n).toBe(cases.filter((c) => c.dnt).length + GOOD_MAILS);
  });

  it('the error MDNs reach the sender, who reads them as failures with code 906', async () => {
    const expected = cases.filter((c) => c.dnt).length + GOOD_MAILS;
    const reports: any[] = [];
    for (let i = 0; i < 50 && reports.length < expected; i++) {
      const r = await world.core.registry.call('mssante.sync', { account: SENDER });
      reports.push(...r.messages.filter((m) => m.kind === 'report'));
      if (reports.length < expected) await new Promise((res) => setTimeout(res, 100));
    }
    expect(reports).toHaveLength(expected);
    const failed = reports.filter((r) => r.report?.state === 'failed');
    expect(failed).toHaveLength(expected - GOOD_MAILS);
    for (const f of failed) expect(f.report.code).toBe('906');
  });
});
