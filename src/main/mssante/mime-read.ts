import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';

/**
 * A lean, strict reader of received Internet messages (RFC 5322 + MIME): the header fields the reception
 * needs and every leaf part of the MIME tree with its decoded content. It works on the bytes with
 * `Buffer.indexOf` (boundaries) and Node's native base64 decoder, which is what makes reading a document mail
 * cheap; nothing is rendered (no HTML, no text conversion, no charset guessing), a `message/rfc822` part stays
 * one opaque leaf (never parsed: no nesting of hostile content), and the tree is bounded in depth and size.
 * Malformed structure is read the way mail clients read it (a boundary that never appears leaves the body as
 * one opaque part; a missing closing delimiter ends the last part at the end of the message) and the
 * reception's checks then refuse what does not make a valid document mail.
 */
export interface MimePart {
  /** Lower-case media type (`application/zip`); `text/plain` when absent. */
  contentType: string;
  params: Record<string, string>;
  /** Lower-case disposition (`attachment`, `inline`) when present. */
  disposition?: string;
  /** The file name (Content-Disposition `filename`, else Content-Type `name`), RFC 2231/2047 decoded. */
  filename?: string;
  content: Buffer;
}

export interface MimeMessage {
  /** First value of a header field, unfolded, raw (not decoded); field names are case-insensitive. */
  header(name: string): string | undefined;
  subject: string | null;
  /** `<id@host>`, angle brackets ensured. */
  messageId: string | null;
  inReplyTo: string | null;
  /** First address of From, lower-case. */
  from: string | null;
  /** First address of Disposition-Notification-To, lower-case. */
  dispositionNotificationTo: string | null;
  contentType: { value: string; params: Record<string, string> };
  /** Leaf parts in document order (the body itself when the message is not multipart). */
  parts: MimePart[];
}

const MAX_DEPTH = 16;
const MAX_PARTS = 1000;

interface Fields {
  map: Map<string, string[]>;
  bodyStart: number;
}

/** Header block of an entity: fields up to the first empty line (CRLF or bare LF). */
function readFields(buf: Buffer, start: number, end: number): Fields {
  let headerEnd = -1;
  let bodyStart = end;
  // An entity that starts with an empty line has no header fields.
  if (buf[start] === 0x0a) return { map: new Map(), bodyStart: start + 1 };
  if (buf[start] === 0x0d && buf[start + 1] === 0x0a) return { map: new Map(), bodyStart: start + 2 };
  for (let i = buf.indexOf(0x0a, start); i >= 0 && i < end; i = buf.indexOf(0x0a, i + 1)) {
    if (buf[i + 1] === 0x0a) {
      headerEnd = i;
      bodyStart = i + 2;
      break;
    }
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) {
      headerEnd = i;
      bodyStart = i + 3;
      break;
    }
  }
  if (headerEnd < 0) headerEnd = end;
  const map = new Map<string, string[]>();
  const text = buf.toString('utf8', start, Math.min(headerEnd, end)).replace(/\r?\n(?=[ \t])/g, '');
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) continue;
    const value = line.slice(colon + 1).trim();
    const list = map.get(name);
    if (list) list.push(value);
    else map.set(name, [value]);
  }
  return { map, bodyStart: Math.min(bodyStart, end) };
}

function decodeQuotedPrintable(buf: Buffer): Buffer {
  const out = Buffer.allocUnsafe(buf.length);
  let o = 0;
  const hex = (c: number) => (c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x41 && c <= 0x46 ? c - 0x37 : c >= 0x61 && c <= 0x66 ? c - 0x57 : -1);
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c !== 0x3d) {
      out[o++] = c;
      continue;
    }
    // Soft line break (=CRLF, =LF, trailing spaces allowed before it).
    let j = i + 1;
    while (buf[j] === 0x20 || buf[j] === 0x09) j++;
    if (buf[j] === 0x0d && buf[j + 1] === 0x0a) {
      i = j + 1;
      continue;
    }
    if (buf[j] === 0x0a) {
      i = j;
      continue;
    }
    const h = hex(buf[i + 1] ?? 0);
    const l = hex(buf[i + 2] ?? 0);
    if (h >= 0 && l >= 0) {
      out[o++] = (h << 4) | l;
      i += 2;
    } else out[o++] = c;
  }
  return out.subarray(0, o);
}

function decodeBody(raw: Buffer, encoding: string): Buffer {
  switch (encoding) {
    case 'base64':
      return Buffer.from(raw.toString('latin1'), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(raw);
    default:
      return raw;
  }
}

function headerValue(map: Map<string, string[]>, name: string): { value: string; params: Record<string, string> } | undefined {
  const v = map.get(name)?.[0];
  if (v === undefined) return undefined;
  const parsed = libmime.parseHeaderValue(v);
  return { value: parsed.value.trim().toLowerCase(), params: parsed.params };
}

function safeDecodeWords(v: string): string {
  try {
    return libmime.decodeWords(v);
  } catch {
    return v;
  }
}

/** Delimiter lines of a multipart body: `--boundary` at a line start; the close delimiter ends the list. */
function splitMultipart(buf: Buffer, start: number, end: number, boundary: string): [number, number][] {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const parts: [number, number][] = [];
  let partStart = -1;
  let pos = start;
  while (pos < end) {
    const at = buf.indexOf(delim, pos);
    if (at < 0 || at >= end) break;
    const lineStart = at === start || buf[at - 1] === 0x0a;
    if (!lineStart) {
      pos = at + delim.length;
      continue;
    }
    const after = at + delim.length;
    const closing = buf[after] === 0x2d && buf[after + 1] === 0x2d;
    // The rest of the delimiter line must be blank (transport padding).
    let eol = buf.indexOf(0x0a, after);
    if (eol < 0 || eol >= end) eol = end;
    const rest = buf.toString('latin1', closing ? after + 2 : after, eol).trim();
    if (rest !== '') {
      pos = after;
      continue;
    }
    if (partStart >= 0) {
      // The CRLF before a delimiter belongs to the delimiter.
      let partEnd = at;
      if (buf[partEnd - 1] === 0x0a) partEnd--;
      if (buf[partEnd - 1] === 0x0d) partEnd--;
      parts.push([partStart, Math.max(partStart, partEnd)]);
    }
    if (closing) return parts;
    partStart = Math.min(eol + 1, end);
    pos = partStart;
    if (parts.length >= MAX_PARTS) return parts;
  }
  // No close delimiter: the last part runs to the end of the message.
  if (partStart >= 0 && partStart < end) parts.push([partStart, end]);
  return parts;
}

function walk(buf: Buffer, start: number, end: number, out: MimePart[], depth: number, fields?: Fields): void {
  const f = fields ?? readFields(buf, start, end);
  const ct = headerValue(f.map, 'content-type') ?? { value: 'text/plain', params: {} };
  const type = ct.value || 'text/plain';
  if (type.startsWith('multipart/') && ct.params['boundary'] && depth < MAX_DEPTH) {
    for (const [s, e] of splitMultipart(buf, f.bodyStart, end, ct.params['boundary'])) {
      if (out.length >= MAX_PARTS) return;
      walk(buf, s, e, out, depth + 1);
    }
    return;
  }
  const cd = headerValue(f.map, 'content-disposition');
  const name = cd?.params['filename'] ?? ct.params['name'];
  const encoding = (f.map.get('content-transfer-encoding')?.[0] ?? '7bit').trim().toLowerCase();
  out.push({
    contentType: type,
    params: ct.params,
    ...(cd?.value ? { disposition: cd.value } : {}),
    ...(name !== undefined ? { filename: safeDecodeWords(name) } : {}),
    content: decodeBody(buf.subarray(f.bodyStart, end), encoding),
  });
}

function firstAddress(value: string | undefined): string | null {
  if (!value) return null;
  const list = addressparser(value, { flatten: true }) as { address?: string }[];
  return list.find((a) => a.address)?.address?.toLowerCase() ?? null;
}

function messageIdFormat(v: string | undefined): string | null {
  if (v === undefined) return null;
  let id = safeDecodeWords(v).trim();
  if (!id) return null;
  if (!id.startsWith('<')) id = `<${id}`;
  if (!id.endsWith('>')) id = `${id}>`;
  return id;
}

export function readMime(raw: Buffer): MimeMessage {
  const top = readFields(raw, 0, raw.length);
  const parts: MimePart[] = [];
  walk(raw, 0, raw.length, parts, 0, top);
  const first = (name: string) => top.map.get(name)?.[0];
  const subject = first('subject');
  return {
    header: (name) => first(name.toLowerCase()),
    subject: subject === undefined ? null : safeDecodeWords(subject),
    messageId: messageIdFormat(first('message-id')),
    inReplyTo: messageIdFormat(first('in-reply-to')),
    from: firstAddress(first('from')),
    dispositionNotificationTo: firstAddress(first('disposition-notification-to')),
    contentType: headerValue(top.map, 'content-type') ?? { value: 'text/plain', params: {} },
    parts,
  };
}
