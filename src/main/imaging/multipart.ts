import { AppError } from '../core/errors';

/** The boundary of a `multipart/related` Content-Type (quoted or not). */
export function multipartBoundary(contentType: string | null): string | undefined {
  if (!contentType || !/^multipart\/related/i.test(contentType.trim())) return undefined;
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

export interface MultipartPart {
  headers: Record<string, string>;
  body: Buffer;
}

/** The part's headers and body (a view: `part` is the caller's own buffer). */
function parsePart(part: Buffer): MultipartPart {
  const headerEnd = part.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  if (headerEnd < 0) {
    if (part.length === 0) return { headers, body: part };
    throw new AppError('IMAGING_DICOMWEB_BAD_RESPONSE', "La réponse du serveur d'images est mal formée.", 'multipart part without a header block');
  }
  for (const line of part.subarray(0, headerEnd).toString('latin1').split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { headers, body: part.subarray(headerEnd + 4) };
}

/** Below this, a chunk is merged into the previous small one (a peer sending tiny pieces keeps the queue short). */
const SMALL = 4096;

/**
 * The bytes received and not yet consumed, as the network chunks themselves: searched in place, and a part is
 * copied once, into a buffer of its exact size (or not at all when it lies within one chunk).
 */
class ChunkQueue {
  private chunks: Buffer[] = [];
  /** Bytes of chunks[0] already consumed. */
  private skip = 0;
  size = 0;

  push(c: Buffer): void {
    if (!c.length) return;
    const last = this.chunks[this.chunks.length - 1];
    if (c.length < SMALL && last && last.length < SMALL) {
      this.chunks[this.chunks.length - 1] = Buffer.concat([last, c]);
    } else this.chunks.push(c);
    this.size += c.length;
  }

  /** Bytes [from, to) in a new buffer (small ranges: boundary checks). */
  private range(from: number, to: number): Buffer {
    const out = Buffer.allocUnsafe(Math.max(0, to - from));
    let pos = -this.skip;
    let o = 0;
    for (const c of this.chunks) {
      const end = pos + c.length;
      if (end > from && pos < to) {
        const a = Math.max(from, pos) - pos;
        const b = Math.min(to, end) - pos;
        c.copy(out, o, a, b);
        o += b - a;
      }
      if (end >= to) break;
      pos = end;
    }
    return out;
  }

  byteAt(i: number): number {
    return this.range(i, i + 1)[0]!;
  }

  /** First position ≥ `from` where `needle` starts, or -1. */
  indexOf(needle: Buffer, from: number): number {
    const d = needle.length;
    let pos = -this.skip; // logical offset of chunks[i][0]
    for (let i = 0; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const end = pos + c.length;
      if (end > from) {
        const local = Math.max(from - pos, i === 0 ? this.skip : 0);
        const at = c.indexOf(needle, local);
        if (at >= 0) return pos + at;
        // Across the junction with the next chunk(s).
        if (i + 1 < this.chunks.length) {
          const start = Math.max(from, end - d + 1);
          const probe = this.range(start, Math.min(this.size, end + d - 1));
          const k = probe.indexOf(needle);
          if (k >= 0 && start + k < end) return start + k;
        }
      }
      pos = end;
    }
    return -1;
  }

  /** Removes and returns the first `n` bytes (a view of one chunk when they lie in it, else one exact copy). */
  take(n: number): Buffer {
    const first = this.chunks[0];
    let out: Buffer;
    if (first && first.length - this.skip >= n) out = first.subarray(this.skip, this.skip + n);
    else out = this.range(0, n);
    this.drop(n);
    return out;
  }

  drop(n: number): void {
    this.size -= n;
    let left = n + this.skip;
    let k = 0;
    while (k < this.chunks.length && left >= this.chunks[k]!.length) left -= this.chunks[k++]!.length;
    if (k) this.chunks = this.chunks.slice(k);
    this.skip = left;
  }
}

/**
 * Streaming reader of a multipart/related body (RFC 2046/2387, as DICOMweb sends it): yields each part as
 * soon as the boundary after it arrives, so the first instance is usable before the series is complete.
 */
export async function* readMultipart(body: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<MultipartPart> {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  const crlf = Buffer.from('\r\n');
  const q = new ChunkQueue();
  q.push(Buffer.from('\r\n')); // so that a boundary on the very first line matches the same delimiter
  let inPart = false;
  let scanFrom = 0;
  for await (const chunk of body) {
    q.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    for (;;) {
      const at = q.indexOf(delimiter, scanFrom);
      if (at < 0) {
        scanFrom = Math.max(0, q.size - delimiter.length + 1);
        break;
      }
      const after = at + delimiter.length;
      if (q.size < after + 2) {
        scanFrom = at;
        break;
      }
      const isEnd = q.byteAt(after) === 0x2d && q.byteAt(after + 1) === 0x2d;
      const eol = isEnd ? after + 2 : q.indexOf(crlf, after);
      if (eol < 0) {
        scanFrom = at;
        break;
      }
      if (inPart) yield parsePart(q.take(at));
      else q.drop(at);
      if (isEnd) return;
      q.drop(eol + 2 - at);
      inPart = true;
      scanFrom = 0;
    }
  }
  throw new AppError('IMAGING_DICOMWEB_TRUNCATED', 'Le transfert des images a été interrompu avant la fin.', 'multipart body ended without its closing boundary');
}
