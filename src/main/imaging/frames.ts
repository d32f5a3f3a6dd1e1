import crypto from 'node:crypto';
import { AppError } from '../core/errors';
import { T, TS } from './dicom/constants';
import { parseDicom, type ParsedDicom } from './dicom/parser';

/**
 * Frames of a DICOM Part 10 instance as WADO-RS `…/frames/N` would return them: the native pixel bytes of
 * each frame, or the compressed bitstream of each frame (fragments joined; basic offset table honoured).
 * Lets main serve the viewer's frame requests from one series-level retrieval instead of one HTTP request
 * per frame.
 */

const tag = (g: number, e: number) => ((g << 16) | e) >>> 0;
const Rows = tag(0x0028, 0x0010);
const Columns = tag(0x0028, 0x0011);
const SamplesPerPixel = tag(0x0028, 0x0002);
const BitsAllocated = tag(0x0028, 0x0100);
const NumberOfFrames = tag(0x0028, 0x0008);

export interface InstanceFrames {
  transferSyntaxUid: string;
  frames: Buffer[];
}

export function extractFrames(part10: Buffer): InstanceFrames {
  return framesOf(parseDicom(part10));
}

/** The frames of an instance already parsed. */
export function framesOf(parsed: ParsedDicom): InstanceFrames {
  const ds = parsed.dataset;
  const ts = parsed.transferSyntaxUid;
  const pixel = ds.elements.get(T.PixelData);
  if (!pixel) throw new AppError('IMAGING_NO_PIXEL_DATA', "Cette image ne contient pas de pixels.", 'no (7FE0,0010)');
  const count = Number(ds.string(NumberOfFrames) ?? '1') || 1;
  const bytes = ds.bytes;
  if (pixel.fragments) {
    const [bot, ...data] = pixel.fragments;
    const frag = (f: { offset: number; length: number }) => bytes.subarray(f.offset, f.offset + f.length);
    if (count === 1) return { transferSyntaxUid: ts, frames: [data.length === 1 ? frag(data[0]!) : Buffer.concat(data.map(frag))] };
    if (data.length === count) return { transferSyntaxUid: ts, frames: data.map(frag) };
    // Several fragments per frame: the basic offset table gives where each frame starts.
    if (!bot || bot.length < count * 4) throw new AppError('IMAGING_FRAMES_UNSUPPORTED', "Les images de cette série ne peuvent pas être découpées.", 'multi-fragment frames without offset table');
    const starts = Array.from({ length: count }, (_, i) => bytes.readUInt32LE(bot.offset + i * 4));
    const first = data[0]!.offset - 8; // offsets are relative to the first fragment's item tag
    const frames: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const from = first + starts[i]!;
      const to = i + 1 < count ? first + starts[i + 1]! : Infinity;
      frames.push(Buffer.concat(data.filter((f) => f.offset - 8 >= from && f.offset - 8 < to).map(frag)));
    }
    return { transferSyntaxUid: ts, frames };
  }
  const value = bytes.subarray(pixel.offset, pixel.offset + pixel.length);
  let frameBytes = value.length / count;
  const rows = ds.uint16(Rows);
  const cols = ds.uint16(Columns);
  const bits = ds.uint16(BitsAllocated);
  if (rows && cols && bits && bits % 8 === 0) frameBytes = rows * cols * (ds.uint16(SamplesPerPixel) ?? 1) * (bits / 8);
  if (ts === TS.ExplicitBE) throw new AppError('IMAGING_FRAMES_UNSUPPORTED', "Syntaxe de transfert non servie par lot.", 'big endian');
  return { transferSyntaxUid: ts, frames: Array.from({ length: count }, (_, i) => value.subarray(i * frameBytes, (i + 1) * frameBytes)) };
}

/**
 * A single-part frame answer for the viewer: `Content-Type: application/octet-stream; transfer-syntax=…` and the
 * frame bytes as the body. The WADO image loader accepts a non-multipart answer (and reads the transfer syntax
 * from that header), which spares it scanning each frame for the multipart boundary. This is our internal
 * main→renderer protocol; the PACS side stays standard WADO-RS.
 */
export function singlePartFrameResponse(bytes: Buffer, transferSyntaxUid: string, headers: Record<string, string> = {}): Response {
  return new Response(new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength), {
    status: 200,
    headers: { 'content-type': `application/octet-stream; transfer-syntax=${transferSyntaxUid}`, 'content-length': String(bytes.length), ...headers },
  });
}

/** A WADO-RS frames response (one part), shaped like Orthanc's so the WADO image loader reads it the same way. */
export function frameResponse(bytes: Buffer, transferSyntaxUid: string, headers: Record<string, string> = {}): Response {
  const boundary = crypto.randomBytes(16).toString('hex');
  const type = `application/octet-stream; transfer-syntax=${transferSyntaxUid}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Type: ${type}\r\nContent-Length: ${bytes.length}\r\nMIME-Version: 1.0\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Response(new Uint8Array(Buffer.concat([head, bytes, tail])), {
    status: 200,
    headers: { 'content-type': `multipart/related; type="${type}"; boundary=${boundary}`, ...headers },
  });
}
