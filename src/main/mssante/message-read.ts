import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { AppError } from '../core/errors';
import type { ParsedCda } from '../documents/types';
import type { DocumentsPort } from './documents-port';

/** What reading needs from the documents capability (a worker loads only these modules). */
export type ReadDocumentsPort = Pick<DocumentsPort, 'readXdm' | 'parseCda'>;
import { readMime, type MimeMessage } from './mime-read';
import { parseReport } from './report-parse';
import type { MessageOutcome } from './reception';
import { RECEIVE_LIMITS, XDM_ATTACHMENT_NAME, XDM_SUBJECT_PREFIX, type MdnErrorCode } from './wire-profile';

/**
 * Reading one received message, without any side effect: MIME parse, recognition (document mail, report,
 * other), the checks that refuse it (non-UTF-8 headers, too large, no or several archives), the XDM opened and
 * verified, its CDA documents parsed. Pure CPU work on bytes, so it runs on the main thread or in a worker
 * (`mail-read-pool.ts`) alike; what it returns is structured-cloneable.
 */
export interface MailSource {
  uid: number;
  size: number;
  /** The whole message, or only its headers when it is too large to be downloaded. */
  raw?: Buffer;
  headersOnly?: Buffer;
}

/** A document of the archive, checked and parsed (or the reason it cannot be taken). */
export interface PreparedDoc {
  problem?: { code: MdnErrorCode; detail: string };
  uniqueId: string;
  action?: string | null;
  cda?: Pick<ParsedCda, 'header' | 'bytes'> & { bodyHash: string };
  pdf?: { name: string; data: Buffer };
}

export interface ReadMail {
  /** What the message is; a commit may still turn it into a duplicate (same Message-ID already processed). */
  outcome: MessageOutcome;
  prepared?: PreparedDoc[];
  /** The raw header block as latin1 (for non-UTF-8 detection and the MDN's original headers). */
  headerText: string;
  /** Where the sender asks for an MDN (Disposition-Notification-To), if anywhere. */
  dnt: string | null;
  autoSubmitted: string;
}

/** SHA-256 of the CDA body (from its first `component`): a metadata update changes the header, never this. */
export function bodyHash(cda: Buffer): string {
  const text = cda.toString('utf8');
  const i = text.search(/<(\w+:)?component[\s>]/);
  return createHash('sha256').update(i >= 0 ? text.slice(i) : text).digest('hex');
}

/** Name of the first header whose raw bytes are not valid UTF-8 (`headerText` holds the bytes as latin1). */
export function nonUtf8Header(headerText: string): string | undefined {
  if (!/[\u0080-\u00ff]/.test(headerText)) return undefined;
  for (const field of headerText.split(/\r?\n(?![ \t])/)) {
    if (/[\u0080-\u00ff]/.test(field) && !isUtf8(Buffer.from(field, 'latin1'))) return field.slice(0, Math.max(0, field.indexOf(':'))).slice(0, 60) || '?';
  }
  return undefined;
}

export function isDocumentMail(mail: MimeMessage): boolean {
  return (mail.subject ?? '').trim().startsWith(XDM_SUBJECT_PREFIX) || mail.parts.some((a) => (a.filename ?? '').toLowerCase() === XDM_ATTACHMENT_NAME.toLowerCase());
}

export async function readMail(src: MailSource, docs: ReadDocumentsPort): Promise<ReadMail> {
  const source = src.raw ?? src.headersOnly ?? Buffer.alloc(0);
  const p = readMime(source);
  const headerEnd = source.indexOf('\r\n\r\n');
  const headerText = source.subarray(0, headerEnd >= 0 ? headerEnd : Math.min(source.length, 64 * 1024)).toString('latin1');
  const base: MessageOutcome = { uid: src.uid, messageId: p.messageId, from: p.from, subject: p.subject, kind: 'other', documents: [] };
  const common = { headerText, dnt: p.dispositionNotificationTo, autoSubmitted: (p.header('auto-submitted') ?? 'no').toLowerCase() };
  const done = (o: Partial<MessageOutcome>, prepared?: PreparedDoc[]): ReadMail => ({ ...common, outcome: { ...base, ...o }, ...(prepared ? { prepared } : {}) });
  const report = parseReport(p);
  if (report) return done({ kind: 'report', report });
  if (!isDocumentMail(p)) return done({ kind: 'other' });
  // MSSanté mails are UTF-8 everywhere: raw 8-bit header bytes in another charset are refused, not guessed.
  const badHeader = nonUtf8Header(headerText);
  if (badHeader) return done({ kind: 'rejected', error: { code: '906', detail: `header ${badHeader} is not valid UTF-8 (raw 8-bit bytes in another charset)` } });
  if (!src.raw) return done({ kind: 'rejected', error: { code: '906', detail: `message too large (${src.size} bytes > ${RECEIVE_LIMITS.maxMessageBytes})` } });
  const xdms = p.parts.filter((a) => (a.filename ?? '').toLowerCase() === XDM_ATTACHMENT_NAME.toLowerCase());
  if (xdms.length !== 1) {
    return done({ kind: 'rejected', error: { code: '906', detail: xdms.length ? 'more than one IHE_XDM.zip attachment' : 'XDM subject without IHE_XDM.zip attachment' } });
  }
  const xdm = xdms[0]!;
  if (xdm.content.length > RECEIVE_LIMITS.maxXdmBytes) return done({ kind: 'rejected', error: { code: '906', detail: `IHE_XDM.zip too large (${xdm.content.length} bytes)` } });
  try {
    return done({ kind: 'document' }, await prepare(xdm.content, p, docs));
  } catch (err) {
    const e = err instanceof AppError ? `${err.code}: ${err.detail ?? err.userMessage}` : (err as Error).message;
    return done({ kind: 'rejected', error: { code: '906', detail: `XDM refused: ${e}`.slice(0, 300) } });
  }
}

async function prepare(zip: Buffer, p: MimeMessage, docs: ReadDocumentsPort): Promise<PreparedDoc[]> {
  const read = await docs.readXdm(zip, {
    limits: { maxEntries: 200, maxTotalUncompressed: 200 * 1024 * 1024, maxEntryUncompressed: 100 * 1024 * 1024, maxRatio: 200, maxMetadataBytes: 8 * 1024 * 1024 },
    // A received archive is at most RECEIVE_LIMITS.maxXdmBytes compressed: its documents are read in memory
    // (no temporary files per message) up to this budget, the rest goes to a private temporary folder.
    inMemoryMaxBytes: 32 * 1024 * 1024,
  });
  try {
    const fatal = read.problems.filter((x) => x.severity === 'error');
    if (fatal.length) throw new AppError(fatal[0]!.code, 'XDM invalide', fatal.map((x) => x.code).join(','));
    if (!read.documents.length) throw new AppError('XDM_EMPTY', 'XDM vide', 'no document in the XDM');
    const pdfs = p.parts.filter((a) => a.contentType === 'application/pdf' || (a.filename ?? '').toLowerCase().endsWith('.pdf'));
    return read.documents.map((d, i) => {
      const out: PreparedDoc = { uniqueId: d.uniqueId, action: d.action ?? null };
      const errs = d.problems.filter((x) => x.severity === 'error');
      if (errs.length || !d.hashValid || !d.sizeValid || !(d.path || d.bytes)) {
        out.problem = { code: '906', detail: `document ${d.uri}: ${errs.map((x) => x.code).join(',') || (!(d.path || d.bytes) ? 'missing' : 'hash/size mismatch')}` };
        return out;
      }
      try {
        const cda = d.cda ?? docs.parseCda(d.bytes ?? fs.readFileSync(d.path!));
        out.cda = { header: cda.header, bytes: cda.bytes, bodyHash: bodyHash(cda.bytes) };
      } catch (err) {
        out.problem = { code: '906', detail: `document ${d.uri}: ${err instanceof AppError ? err.code : 'unreadable'}` };
        return out;
      }
      const pdf = pdfs.length === read.documents.length ? pdfs[i] : pdfs.length === 1 && read.documents.length === 1 ? pdfs[0] : undefined;
      if (pdf) out.pdf = { name: pdf.filename ?? 'document.pdf', data: pdf.content };
      return out;
    });
  } finally {
    read.cleanup();
  }
}

/** Exact-size copy whose buffer can be transferred to another thread. */
function transferable(b: Buffer, transfer: ArrayBuffer[]): Uint8Array {
  const copy = new Uint8Array(b);
  transfer.push(copy.buffer);
  return copy;
}

const asBuffer = (u: Uint8Array): Buffer => (Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength));

/** Prepares a `ReadMail` to cross a thread boundary: its byte arrays become transferable copies. */
export function packReadMail(read: ReadMail, transfer: ArrayBuffer[]): ReadMail {
  if (!read.prepared) return read;
  return {
    ...read,
    prepared: read.prepared.map((d) => ({
      ...d,
      ...(d.cda ? { cda: { ...d.cda, bytes: transferable(d.cda.bytes, transfer) as Buffer } } : {}),
      ...(d.pdf ? { pdf: { name: d.pdf.name, data: transferable(d.pdf.data, transfer) as Buffer } } : {}),
    })),
  };
}

/** The other side of `packReadMail`: byte arrays back to Buffers. */
export function unpackReadMail(read: ReadMail): ReadMail {
  for (const d of read.prepared ?? []) {
    if (d.cda) d.cda.bytes = asBuffer(d.cda.bytes);
    if (d.pdf) d.pdf.data = asBuffer(d.pdf.data);
  }
  return read;
}
