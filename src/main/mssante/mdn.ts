import { randomBytes } from 'node:crypto';
import os from 'node:os';
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
