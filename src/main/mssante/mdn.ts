import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { ParsedMail } from 'mailparser';
import { encodeWords } from 'nodemailer/lib/mime-funcs';
import { productInfo } from '../core/version';
import { newMessageId } from './message-build';
import { DISPOSITION_DISPLAYED_MANUAL, DISPOSITION_PROCESSED, HEADER_NIL, MDN_ERRORS, dispositionError, errorMdnSubject, type MdnErrorCode } from './wire-profile';

/**
 * RFC 8098 message disposition notifications as the PFI volet uses them (success, errors 900–906 with the
 * subject prefix and the original message re-attached), manual read notifications, and the parsing of the
 * reports (MDN and DSN) that come back for our own messages.
 */
export interface MdnRequest {
  /** The mailbox that received the original and now reports. */
  reporter: string;
  /** Disposition-Notification-To of the original. */
  to: string;
  originalMessageId: string;
  originalSubject: string;
  originalRecipient?: string;
  outcome: { kind: 'processed' } | { kind: 'error'; code: MdnErrorCode; detail?: string } | { kind: 'displayed' };
  /** The original message (re-attached on error, as message/rfc822); headers only when absent or too big. */
  original?: Buffer;
  originalHeaders?: string;
  nil: string;
}

const CRLF = '\r\n';

function b64lines(buf: Buffer): string {
  return (buf.toString('base64').match(/.{1,76}/g) ?? []).join(CRLF);
}

function headerSafe(v: string): string {
  return v.replace(/[\r\n]+/g, ' ');
}

export function buildMdn(req: MdnRequest): { raw: Buffer; messageId: string; subject: string } {
  const messageId = newMessageId(req.reporter);
  const boundary = `=_mdn_${randomBytes(12).toString('hex')}`;
  const info = productInfo();
  let subject: string;
  let disposition: string;
  let human: string;
  switch (req.outcome.kind) {
    case 'processed':
      subject = req.originalSubject;
      disposition = DISPOSITION_PROCESSED;
      human = `Le message ${req.originalMessageId} a été reçu et intégré par ${req.reporter}.`;
      break;
    case 'displayed':
      subject = `Lu : ${req.originalSubject}`;
      disposition = DISPOSITION_DISPLAYED_MANUAL;
      human = `Le message ${req.originalMessageId} a été lu par ${req.reporter}.`;
      break;
    case 'error':
      subject = errorMdnSubject(req.outcome.code, req.originalSubject);
      disposition = dispositionError(req.outcome.code);
      human = [
        `Le message ${req.originalMessageId} n'a pas pu être intégré par ${req.reporter}.`,
        `Code erreur : ${req.outcome.code}`,
        `Libellé : ${MDN_ERRORS[req.outcome.code]}`,
        ...(req.outcome.detail ? [`Détail : ${req.outcome.detail}`] : []),
      ].join(CRLF);
      break;
  }
  const mdnFields = [
    `Reporting-UA: ${os.hostname()}; ${info.name} ${info.version}`,
    ...(req.originalRecipient ? [`Original-Recipient: rfc822;${req.originalRecipient}`] : []),
    `Final-Recipient: rfc822;${req.reporter}`,
    `Original-Message-ID: ${headerSafe(req.originalMessageId)}`,
    `Disposition: ${disposition}`,
  ].join(CRLF);
  const headers = [
    `From: ${req.reporter}`,
    `To: ${headerSafe(req.to)}`,
    `Subject: ${encodeWords(headerSafe(subject), 'B', 52)}`,
    `Date: ${new Date().toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: ${messageId}`,
    `In-Reply-To: ${headerSafe(req.originalMessageId)}`,
    `References: ${headerSafe(req.originalMessageId)}`,
    `${HEADER_NIL}: ${headerSafe(req.nil)}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=disposition-notification; boundary="${boundary}"`,
  ];
  const parts: string[] = [
    [`--${boundary}`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '', b64lines(Buffer.from(human, 'utf8'))].join(CRLF),
    [`--${boundary}`, 'Content-Type: message/disposition-notification', 'Content-Transfer-Encoding: 7bit', '', mdnFields, ''].join(CRLF),
  ];
  const reattach = req.outcome.kind === 'error' && req.original;
  if (reattach) {
    parts.push([`--${boundary}`, 'Content-Type: message/rfc822', 'Content-Disposition: attachment', '', req.original!.toString('latin1')].join(CRLF));
  } else if (req.originalHeaders) {
    parts.push([`--${boundary}`, 'Content-Type: text/rfc822-headers', '', req.originalHeaders.trimEnd(), ''].join(CRLF));
  }
  const raw = Buffer.from([...headers, '', 'This is a MIME-encapsulated disposition notification.', ...parts, `--${boundary}--`, ''].join(CRLF), 'latin1');
  return { raw, messageId, subject };
}

export type ReportStatus =
  | { type: 'mdn'; originalMessageId?: string; disposition: string; state: 'integrated' | 'read' | 'failed' | 'other'; code?: string; label?: string; reporter?: string }
  | { type: 'dsn'; originalMessageId?: string; envelopeId?: string; state: 'delivered' | 'failed' | 'delayed' | 'other'; status?: string; recipient?: string };

function fields(text: string): Map<string, string> {
  const map = new Map<string, string>();
  const unfolded = text.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m && !map.has(m[1]!.toLowerCase())) map.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  return map;
}

/** Parses the Disposition field leniently (RFC 8098 and the PFI `processed/Error: <code>^<label>` form). */
export function parseDisposition(value: string): { state: 'integrated' | 'read' | 'failed' | 'other'; code?: string; label?: string } {
  const err = /error\s*:?\s*([0-9]{1,3})(?:\s*\^\s*(.*))?$/i.exec(value);
  if (err || /\b(failed|error)\b/i.test(value)) return { state: 'failed', code: err?.[1], label: err?.[2]?.trim() };
  const v = value.toLowerCase();
  if (/;\s*processed\b/.test(v)) return { state: 'integrated' };
  if (/;\s*displayed\b/.test(v)) return { state: 'read' };
  return { state: 'other' };
}

/** Recognises an incoming MDN or DSN and extracts what it says about which of our messages. */
/** The body of the first MIME part of this type, read from the raw source (mailparser folds some into the text). */
function rawPart(raw: Buffer | undefined, mime: string): string | undefined {
  if (!raw) return undefined;
  const text = raw.toString('latin1');
  const re = new RegExp(`Content-Type:\\s*${mime.replace('/', '\\/')}[^\\r\\n]*(?:\\r?\\n[ \\t][^\\r\\n]*)*(?:\\r?\\n[A-Za-z-]+:[^\\r\\n]*)*\\r?\\n\\r?\\n([\\s\\S]*?)(?:\\r?\\n--[^\\r\\n]+|$)`, 'i');
  const m = re.exec(text);
  return m?.[1];
}

export function parseReport(mail: ParsedMail, raw?: Buffer): ReportStatus | undefined {
  const ct = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  if (!ct || ct.value?.toLowerCase() !== 'multipart/report') return undefined;
  const type = (ct.params?.['report-type'] ?? '').toLowerCase();
  const part = (mime: string) => mail.attachments.find((a) => a.contentType.toLowerCase() === mime);
  const headersPart = part('text/rfc822-headers') ?? part('message/rfc822');
  const originalFromHeaders = headersPart ? fields(headersPart.content.toString('utf8')).get('message-id') : undefined;
  const inReplyTo = typeof mail.inReplyTo === 'string' ? mail.inReplyTo : undefined;
  if (type === 'disposition-notification') {
    const p = part('message/disposition-notification');
    const body = p ? p.content.toString('utf8') : rawPart(raw, 'message/disposition-notification');
    const f = body ? fields(body) : new Map<string, string>();
    const disposition = f.get('disposition') ?? '';
    const d = parseDisposition(disposition);
    return {
      type: 'mdn',
      originalMessageId: f.get('original-message-id') ?? inReplyTo ?? originalFromHeaders,
      disposition,
      ...d,
      reporter: f.get('final-recipient')?.replace(/^rfc822;\s*/i, ''),
    };
  }
  if (type === 'delivery-status') {
    const p = part('message/delivery-status') ?? part('message/global-delivery-status');
    const text = p ? p.content.toString('utf8') : (rawPart(raw, 'message/delivery-status') ?? rawPart(raw, 'message/global-delivery-status') ?? '');
    const blocks = text.split(/\r?\n\r?\n/).map(fields);
    const perMessage = blocks[0] ?? new Map<string, string>();
    const rcpt = blocks.slice(1).find((b) => b.has('action')) ?? new Map<string, string>();
    const action = (rcpt.get('action') ?? '').toLowerCase();
    const state = action === 'delivered' || action === 'relayed' || action === 'expanded' ? 'delivered' : action === 'failed' ? 'failed' : action === 'delayed' ? 'delayed' : 'other';
    return {
      type: 'dsn',
      originalMessageId: originalFromHeaders,
      envelopeId: perMessage.get('original-envelope-id'),
      state,
      status: rcpt.get('status'),
      recipient: rcpt.get('final-recipient')?.replace(/^rfc822;\s*/i, ''),
    };
  }
  return undefined;
}
