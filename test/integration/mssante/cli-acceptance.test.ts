import fs from 'node:fs';
import path from 'node:path';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeXdm, buildCda, loadCdaRequest } from '../../../src/main/documents';
import { runLps } from '../../support/cli';
import { craftZip } from '../../unit/documents/zip-craft';
import { APP, ROOT, SENDER, startMailWorld, type MailWorld } from './harness';

/**
 * The acceptance path through the real `lps` command line (a child process per command, JSON
 * output), against real Dovecot + Postfix: `lps cda new` → `lps mail send` PER → APP with acknowledgements →
 * `lps mail sync` on the APP mailbox says integrated and sends the MDN → a manual read MDN (`lps mail mdn`) →
 * the sender's `lps mail outbox` shows delivered / integrated / read → the same document as a new version is
 * classified as a replacement → a message with a hostile XDM (`lps mail send-raw`) is rejected with a 906
 * error MDN. (`lps sandbox up/down` itself — ~1.5 min with every service — is checked by hand, see report.)
 */
let world: MailWorld;

async function lps(args: string[]): Promise<any> {
  const r = await runLps([...args, '--json'], { dataDir: world.dataDir, timeoutMs: 60_000 });
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout);
}

async function syncUntil(account: string, pred: (r: any) => boolean): Promise<any[]> {
  const seen: any[] = [];
  for (let i = 0; i < 20; i++) {
    const r = await lps(['mail', 'sync', '--account', account]);
    seen.push(...r.messages);
    if (pred(seen)) return seen;
    await new Promise((res) => setTimeout(res, 300));
  }
  throw new Error(`${account}: expected messages did not arrive: ${JSON.stringify(seen.map((m) => m.kind))}`);
}

describe('acceptance path through the lps CLI', () => {
  beforeAll(async () => {
    world = await startMailWorld('lps-mss-cli-');
    await world.core.close(); // the CLI processes own the data dir from now on
  }, 60_000);
  afterAll(async () => {
    await world?.stop();
  });

  it('send → integrated + MDN, read MDN, replacement, hostile XDM → 906', async () => {
    const w = world.workDir;
    // lps cda new
    await lps(['cda', 'new', path.join(ROOT, 'examples', 'cda-request.json'), '-o', path.join(w, 'doc.xml')]);
    // lps mail send PER → APP, delivery + read acknowledgements
    const sent = await lps(['mail', 'send', '--from', SENDER, '--to', APP, '--cda', path.join(w, 'doc.xml'), '--ack', 'delivery,read']);
    expect(sent.status).toBe('sent');
    // lps mail sync on the APP mailbox: integrated, processed MDN sent
    const [m] = await syncUntil(APP, (s) => s.length >= 1);
    expect(m.kind).toBe('document');
    expect(m.documents).toMatchObject([{ classification: 'initial', result: 'integrated' }]);
    expect(m.mdn).toMatchObject({ disposition: 'processed' });
    // A read MDN by hand
    const read = await lps(['mail', 'mdn', '--account', APP, '--message-id', m.messageId]);
    expect(read.status).toBe('sent');
    // The sender sees delivered, integrated and read on its sent message
    await syncUntil(SENDER, (s) => s.filter((x: any) => x.kind === 'report').length >= 3);
    const out = (await lps(['mail', 'outbox', '--account', SENDER])).find((i: any) => i.id === sent.id);
    expect(out).toMatchObject({ deliveryStatus: 'delivered', integrationStatus: 'integrated', readStatus: 'read' });

    // The same document again as a new version (RPLC + action C): a replacement.
    const { request, baseDir } = loadCdaRequest(path.join(ROOT, 'examples', 'cda-request.json'));
    const shown = await lps(['cda', 'show', path.join(w, 'doc.xml')]);
    const v2req = JSON.parse(JSON.stringify(request));
    v2req.document.pdf = path.resolve(baseDir, v2req.document.pdf);
    Object.assign(v2req.document, { setId: shown.setId.root, versionNumber: 2, replaces: shown.id.root, title: 'Compte rendu de consultation (corrigé)' });
    fs.writeFileSync(path.join(w, 'v2.json'), JSON.stringify(v2req));
    await lps(['cda', 'new', path.join(w, 'v2.json'), '-o', path.join(w, 'v2.xml')]);
    const sent2 = await lps(['mail', 'send', '--from', SENDER, '--to', APP, '--cda', path.join(w, 'v2.xml'), '--action', 'C', '--ack', 'read']);
    expect(sent2.status).toBe('sent');
    const [r2] = await syncUntil(APP, (s) => s.length >= 1);
    expect(r2.documents).toHaveLength(1);
    expect(['replacement', 'metadata-update']).toContain(r2.documents[0].classification);
    expect(r2.documents[0]).toMatchObject({ result: 'integrated' });
    const docs = await lps(['mail', 'documents']);
    expect(docs.find((d: any) => d.id === r2.documents[0].replacesRowId)).toMatchObject({ status: 'replaced' });

    // A hostile XDM (external entity in METADATA.XML), sent as a prepared message: rejected, 906 error MDN.
    const built = buildCda(request, { baseDir });
    const xdm = await writeXdm([built.parsed], { sourceId: '1.2.250.1.999.1', companionPdfs: false });
    const meta = xdm.metadataXml.replace(/^(<\?xml[^>]*\?>)?/, '$1<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>');
    const zip = craftZip([
      { name: 'IHE_XDM/SUBSET01/METADATA.XML', data: Buffer.from(meta.replace('<rim:Value>', '<rim:Value>&xxe;')), deflate: true },
      { name: 'IHE_XDM/SUBSET01/DOC0001.XML', data: built.bytes, deflate: true },
    ]);
    const eml = await new MailComposer({
      from: SENDER,
      to: APP,
      subject: 'XDM/1.0/DDM+Document piégé',
      text: 'x',
      headers: [{ key: 'Disposition-Notification-To', value: SENDER }],
      attachments: [{ filename: 'IHE_XDM.zip', content: zip, contentType: 'application/zip' }],
    })
      .compile()
      .build();
    fs.writeFileSync(path.join(w, 'hostile.eml'), eml);
    const sent3 = await lps(['mail', 'send-raw', '--from', SENDER, '--to', APP, '--eml', path.join(w, 'hostile.eml')]);
    expect(sent3.status).toBe('sent');
    const [r3] = await syncUntil(APP, (s) => s.length >= 1);
    expect(r3).toMatchObject({ kind: 'rejected', error: { code: '906' }, documents: [], mdn: { disposition: 'error', code: '906' } });
    const back = await syncUntil(SENDER, (s) => s.some((x: any) => x.report?.code === '906'));
    expect(back.find((x: any) => x.report?.code === '906').report).toMatchObject({ type: 'mdn', state: 'failed' });
  }, 170_000);
});
