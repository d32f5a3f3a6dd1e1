import crypto from 'node:crypto';
import { dmpError } from './faults';
import { NS } from './protocol';

/**
 * MTOM/XOP (multipart/related) packaging of SOAP 1.2 messages: the root part is the envelope
 * (`application/xop+xml; type="application/soap+xml"`), each binary travels as its own part referenced by
 * `<xop:Include href="cid:…"/>`.
 */

export interface MtomAttachment {
  /** Content-ID without angle brackets. */
  cid: string;
  contentType: string;
  data: Buffer;
}

export interface MtomMessage {
  contentType: string;
  body: Buffer;
}

const ROOT_CID = 'root.message@lps.local';

export function newCid(): string {
  return `${crypto.randomUUID()}@lps.local`;
}

/** `<xop:Include href="cid:…"/>` for an attachment. */
export function xopInclude(cid: string): string {
  return `<xop:Include xmlns:xop="${NS.xop}" href="cid:${encodeURIComponent(cid).replace(/%40/g, '@')}"/>`;
}

export function buildMtom(envelopeXml: string, attachments: MtomAttachment[], action: string): MtomMessage {
  const boundary = `MIMEBoundary_${crypto.randomBytes(12).toString('hex')}`;
  const chunks: Buffer[] = [];
  const head = (h: string): void => {
    chunks.push(Buffer.from(h, 'utf8'));
  };
  head(
    `--${boundary}\r\n` +
      `Content-Type: application/xop+xml; charset=UTF-8; type="application/soap+xml"; action="${action}"\r\n` +
      `Content-Transfer-Encoding: binary\r\n` +
      `Content-ID: <${ROOT_CID}>\r\n\r\n`,
  );
  chunks.push(Buffer.from(envelopeXml, 'utf8'));
  for (const a of attachments) {
    head(`\r\n--${boundary}\r\nContent-Type: ${a.contentType}\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <${a.cid}>\r\n\r\n`);
    chunks.push(a.data);
  }
  head(`\r\n--${boundary}--\r\n`);
  return {
    contentType:
      `multipart/related; boundary="${boundary}"; type="application/xop+xml"; start="<${ROOT_CID}>"; ` +
      `start-info="application/soap+xml"; action="${action}"`,
    body: Buffer.concat(chunks),
  };
}

/** Parameters of a Content-Type header (quoted or not), lower-cased names. */
export function contentTypeParams(ct: string): { type: string; params: Record<string, string> } {
  const [type = '', ...rest] = splitParams(ct);
  const params: Record<string, string> = {};
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i < 0) continue;
    let v = p.slice(i + 1).trim();
    if (v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    params[p.slice(0, i).trim().toLowerCase()] = v;
  }
  return { type: type.trim().toLowerCase(), params };
}

function splitParams(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (const ch of s) {
    if (ch === '"') quoted = !quoted;
    if (ch === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export interface ParsedMultipart {
  root: Buffer;
  rootContentType: string;
  parts: Map<string, { contentType: string; data: Buffer }>;
}

export const MAX_PARTS = 1000;

/** Splits a multipart/related body; the root is the `start` part, or the first. */
export function parseMultipart(contentType: string, body: Buffer): ParsedMultipart {
  const { type, params } = contentTypeParams(contentType);
  if (type !== 'multipart/related') throw dmpError('DMP_BAD_RESPONSE', `not multipart/related: ${type}`);
  const boundary = params['boundary'];
  if (!boundary) throw dmpError('DMP_BAD_RESPONSE', 'multipart without boundary');
  const delim = Buffer.from(`--${boundary}`);
  const sections: Buffer[] = [];
  let pos = body.indexOf(delim);
  if (pos < 0) throw dmpError('DMP_BAD_RESPONSE', 'multipart boundary not found');
  while (pos >= 0) {
    let start = pos + delim.length;
    if (body[start] === 0x2d && body[start + 1] === 0x2d) break; // closing delimiter
    if (body[start] === 0x0d && body[start + 1] === 0x0a) start += 2;
    else if (body[start] === 0x0a) start += 1;
    const next = body.indexOf(delim, start);
    if (next < 0) throw dmpError('DMP_BAD_RESPONSE', 'multipart not terminated');
    let end = next;
    if (body[end - 2] === 0x0d && body[end - 1] === 0x0a) end -= 2;
    else if (body[end - 1] === 0x0a) end -= 1;
    sections.push(body.subarray(start, end));
    if (sections.length > MAX_PARTS) throw dmpError('DMP_BAD_RESPONSE', 'too many MIME parts');
    pos = next;
  }
  const parts = new Map<string, { contentType: string; data: Buffer }>();
  let first: { cid: string; contentType: string; data: Buffer } | undefined;
  for (const s of sections) {
    let sep = s.indexOf('\r\n\r\n');
    let sepLen = 4;
    if (sep < 0) {
      sep = s.indexOf('\n\n');
      sepLen = 2;
    }
    if (sep < 0) throw dmpError('DMP_BAD_RESPONSE', 'MIME part without headers');
    const headers: Record<string, string> = {};
    for (const line of s.subarray(0, sep).toString('latin1').split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const cid = (headers['content-id'] ?? '').replace(/^<|>$/g, '');
    const enc = (headers['content-transfer-encoding'] ?? 'binary').toLowerCase();
    let data = s.subarray(sep + sepLen);
    if (enc === 'base64') data = Buffer.from(data.toString('latin1'), 'base64');
    const part = { contentType: headers['content-type'] ?? 'application/octet-stream', data };
    if (!first) first = { cid, ...part };
    if (cid) parts.set(cid, part);
  }
  if (!first) throw dmpError('DMP_BAD_RESPONSE', 'empty multipart');
  const startCid = params['start']?.replace(/^<|>$/g, '');
  const root = startCid ? parts.get(startCid) : first;
  if (!root) throw dmpError('DMP_BAD_RESPONSE', `start part ${startCid} not found`);
  return { root: root.data, rootContentType: root.contentType, parts };
}

/** `cid:` URL of an xop:Include → Content-ID. */
export function cidOfHref(href: string): string {
  return decodeURIComponent(href.replace(/^cid:/i, ''));
}
