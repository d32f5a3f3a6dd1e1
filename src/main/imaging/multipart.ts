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
  return { headers, body: Buffer.from(part.subarray(headerEnd + 4)) };
}

/**
 * Streaming reader of a multipart/related body (RFC 2046/2387, as DICOMweb sends it): yields each part as
 * soon as the boundary after it arrives, so the first instance is usable before the series is complete.
 */
export async function* readMultipart(body: AsyncIterable<Uint8Array>, boundary: string): AsyncGenerator<MultipartPart> {
  const delimiter = Buffer.from(`\r\n--${boundary}`);
  // A growable buffer: appends are amortised O(1) (parts of several hundred KiB arrive in 64 KiB chunks).
  let data = Buffer.allocUnsafe(1 << 20);
  let start = 0;
  let end = 0;
  const append = (chunk: Uint8Array) => {
    if (end + chunk.length > data.length) {
      const live = end - start;
      if (live + chunk.length <= data.length / 2) {
        data.copy(data, 0, start, end);
      } else {
        const bigger = Buffer.allocUnsafe(Math.max(data.length * 2, live + chunk.length));
        data.copy(bigger, 0, start, end);
        data = bigger;
      }
      start = 0;
      end = live;
    }
    data.set(chunk, end);
    end += chunk.length;
  };
  append(Buffer.from('\r\n')); // so that a boundary on the very first line matches the same delimiter
  let inPart = false;
  let scanFrom = 0; // relative to start
  for await (const chunk of body) {
    append(chunk);
    for (;;) {
      const view = data.subarray(start, end);
      const at = view.indexOf(delimiter, scanFrom);
      if (at < 0) {
        scanFrom = Math.max(0, view.length - delimiter.length + 1);
        break;
      }
      const after = at + delimiter.length;
      if (view.length < after + 2) {
        scanFrom = at;
        break;
      }
      const isEnd = view[after] === 0x2d && view[after + 1] === 0x2d;
      const eol = isEnd ? after + 2 : view.indexOf('\r\n', after);
      if (eol < 0) {
        scanFrom = at;
        break;
      }
      if (inPart) yield parsePart(view.subarray(0, at));
      if (isEnd) return;
      start += eol + 2;
      inPart = true;
      scanFrom = 0;
    }
  }
  throw new AppError('IMAGING_DICOMWEB_TRUNCATED', 'Le transfert des images a été interrompu avant la fin.', 'multipart body ended without its closing boundary');
}
