import { createRequire } from 'node:module';

/**
 * JPEG-LS (CharLS) and JPEG 2000 (OpenJPEG) in WebAssembly, from the Cornerstone codec builds: used to
 * produce the sandbox's compressed CT series and by the benchmark to measure decode cost in Node.
 */

const require_ = createRequire(__filename);

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}
interface WasmCodec {
  getDecodedBuffer(info?: FrameInfo): Uint8Array;
  getEncodedBuffer(length?: number): Uint8Array;
  encode(): void;
  decode(): void;
  getFrameInfo(): FrameInfo;
  setNearLossless?(n: number): void;
  delete(): void;
}
type CodecModule = Record<string, new () => WasmCodec>;

let charls: Promise<CodecModule> | undefined;
let openjpeg: Promise<CodecModule> | undefined;

// Emscripten mutates the object it is given: a fresh one per module.
const quiet = () => ({ print: () => {}, printErr: () => {} });

function loadCharls(): Promise<CodecModule> {
  charls ??= (require_('@cornerstonejs/codec-charls/wasmjs') as (o: object) => Promise<CodecModule>)(quiet());
  return charls;
}
function loadOpenJpeg(): Promise<CodecModule> {
  openjpeg ??= (require_('@cornerstonejs/codec-openjpeg/wasmjs') as (o: object) => Promise<CodecModule>)(quiet());
  return openjpeg;
}

export interface GrayFrame {
  width: number;
  height: number;
  bitsStored: number;
  signed: boolean;
  /** 16-bit samples, little endian. */
  pixels: Uint8Array;
}

export async function encodeJpegLs(f: GrayFrame): Promise<Buffer> {
  const m = await loadCharls();
  const enc = new m.JpegLSEncoder!();
  try {
    enc.getDecodedBuffer({ width: f.width, height: f.height, bitsPerSample: f.bitsStored, componentCount: 1 }).set(f.pixels);
    enc.setNearLossless?.(0);
    enc.encode();
    return Buffer.from(enc.getEncodedBuffer());
  } finally {
    enc.delete();
  }
}

export async function encodeJ2k(f: GrayFrame): Promise<Buffer> {
  const m = await loadOpenJpeg();
  const enc = new m.J2KEncoder!();
  try {
    enc.getDecodedBuffer({ width: f.width, height: f.height, bitsPerSample: f.bitsStored, componentCount: 1, isSigned: f.signed }).set(f.pixels);
    enc.encode(); // reversible 5/3 wavelet by default: lossless
    return Buffer.from(enc.getEncodedBuffer());
  } finally {
    enc.delete();
  }
}

async function decodeWith(load: () => Promise<CodecModule>, cls: string, data: Uint8Array): Promise<{ info: FrameInfo; pixels: Uint8Array }> {
  const m = await load();
  const dec = new m[cls]!();
  try {
    dec.getEncodedBuffer(data.length).set(data);
    dec.decode();
    return { info: dec.getFrameInfo(), pixels: new Uint8Array(dec.getDecodedBuffer()) };
  } finally {
    dec.delete();
  }
}

export const decodeJpegLs = (data: Uint8Array) => decodeWith(loadCharls, 'JpegLSDecoder', data);
export const decodeJ2k = (data: Uint8Array) => decodeWith(loadOpenJpeg, 'J2KDecoder', data);
