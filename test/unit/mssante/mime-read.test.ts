import { createHash } from 'node:crypto';
import path from 'node:path';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import { buildCda, loadCdaRequest } from '../../../src/main/documents';
import { buildMdn } from '../../../src/main/mssante/mdn';
import { buildDocumentMessage } from '../../../src/main/mssante/message-build';
import { readMime, type MimeMessage } from '../../../src/main/mssante/mime-read';
import { parseReport } from '../../../src/main/mssante/report-parse';
import { ROOT } from '../../support/build';

const SENDER = 'jean.dupont@sandbox.mssante.fr';
const APP = 'pfi.ch-sandbox@sandbox.mssante.fr';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** What the reception reads from a message, by mailparser (the reference) and by `readMime`. */
function fromMailparser(p: ParsedMail) {
  const addr = (a: AddressObject | AddressObject[] | undefined) => (Array.isArray(a) ? a[0] : a)?.value?.[0]?.address?.toLowerCase() ?? null;
  return {
    subject: p.subject ?? null,
    messageId: p.messageId ?? null,
    inReplyTo: typeof p.inReplyTo === 'string' ? p.inReplyTo : null,
    from: addr(p.from),
    dnt: addr(p.headers.get('disposition-notification-to') as AddressObject | undefined),
    files: p.attachments.map((a) => ({ name: a.filename, type: a.contentType.toLowerCase(), sha: sha(a.content) })),
  };
}

function fromReadMime(m: MimeMessage) {
  return {
    subject: m.subject,
    messageId: m.messageId,
    inReplyTo: m.inReplyTo,
    from: m.from,
    dnt: m.dispositionNotificationTo,
    // mailparser's attachments: every leaf part but the message's text and HTML bodies.
    files: m.parts.filter((a) => a.filename || !/^text\/(plain|html)$/.test(a.contentType)).map((a) => ({ name: a.filename, type: a.contentType, sha: sha(a.content) })),
  };
}

async function corpus(): Promise<{ name: string; raw: Buffer }[]> {
  const { request, baseDir } = loadCdaRequest(path.join(ROOT, 'examples', 'cda-request.json'));
  const a = buildCda(request, { baseDir });
  const b = buildCda({ ...request, title: 'Résultat définitif — œdème' }, { baseDir });
  const doc = await buildDocumentMessage({ from: SENDER, to: [APP], cdas: [a.parsed, b.parsed], ack: { read: true, delivery: true }, nil: 'test', sourceId: '1.2.250.1.999.1' });
  const compose = (o: ConstructorParameters<typeof MailComposer>[0]) => new MailComposer(o).compile().build();
  const pdf = Buffer.from('%PDF-1.4\n' + 'x'.repeat(3000) + '\n%%EOF\n');
  const qp = await compose({
    from: '"Dr Jérôme Müller" <Jerome.Muller@Sandbox.MSSante.fr>',
    to: APP,
    subject: 'Compte rendu — été',
    inReplyTo: 'abc@host',
    text: 'Bonjour,\n' + 'é'.repeat(200),
    html: '<p>Bonjour</p>',
    attachments: [
      { filename: 'résumé très long nom de fichier pour forcer la continuation RFC 2231.pdf', content: pdf, contentType: 'application/pdf' },
      { filename: 'note.txt', content: 'ligne=1\nligne 2 é', contentType: 'text/plain', contentTransferEncoding: 'quoted-printable' },
    ],
  });
  const mdn = buildMdn({ reporter: APP, to: SENDER, originalMessageId: doc.messageId, originalSubject: doc.subject, outcome: { kind: 'error', code: '906', detail: 'XDM refused' }, original: doc.raw, nil: 'test' });
  const lf = Buffer.from(qp.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
  const text = doc.raw.toString('latin1');
  const boundary = /boundary="([^"]+)"/.exec(text)![1]!;
  const noBoundary = Buffer.from(text.replace(`boundary="${boundary}"`, 'boundary="--nowhere--"'), 'latin1');
  const truncated = Buffer.from(text.slice(0, Math.floor(text.length * 0.6)), 'latin1');
  return [
    { name: 'document mail, two CDAs, accents in the subject', raw: doc.raw },
    { name: 'text + html + quoted-printable + RFC 2231 file name', raw: qp },
    { name: 'bare LF line endings', raw: lf },
    { name: 'error MDN with the original attached', raw: mdn.raw },
    { name: 'boundary that never appears', raw: noBoundary },
    { name: 'truncated in the middle of an attachment', raw: truncated },
  ];
}

describe('readMime', () => {
  it('reads what mailparser reads: headers, addresses, every named attachment byte for byte', async () => {
    for (const { name, raw } of await corpus()) {
      const ref = fromMailparser(await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true }));
      expect(fromReadMime(readMime(raw)), name).toEqual(ref);
      if (!/never appears/.test(name)) expect(ref.files.length, name).toBeGreaterThan(0);
    }
  });

  it('reads an MDN as a report on our message', async () => {
    const mails = await corpus();
    const doc = readMime(mails[0]!.raw);
    const report = parseReport(readMime(mails[3]!.raw));
    expect(report).toMatchObject({ type: 'mdn', originalMessageId: doc.messageId, state: 'failed', code: '906' });
  });

  it('keeps an attached message opaque and bounds the MIME tree', () => {
    // 40 levels of nested multiparts: read down to the bound, without recursion trouble.
    let body = 'Content-Type: application/zip; name="IHE_XDM.zip"\r\nContent-Transfer-Encoding: base64\r\n\r\nUEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\r\n';
    for (let i = 0; i < 40; i++) body = `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n${body}--b${i}--\r\n`;
    const deep = readMime(Buffer.from(`From: a@b.fr\r\nSubject: x\r\n${body}`));
    expect(deep.parts).toHaveLength(1);
    expect(deep.parts[0]!.contentType).toBe('multipart/mixed');
    const nested = readMime(
      Buffer.from(
        'From: a@b.fr\r\nContent-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y.fr\r\nContent-Type: multipart/mixed; boundary="i"\r\n\r\n--i\r\nContent-Type: application/zip; name="IHE_XDM.zip"\r\n\r\nPK\r\n--i--\r\n--o--\r\n',
      ),
    );
    expect(nested.parts.map((p) => p.contentType)).toEqual(['message/rfc822']);
    expect(nested.parts.some((p) => p.filename === 'IHE_XDM.zip')).toBe(false);
  });
});
