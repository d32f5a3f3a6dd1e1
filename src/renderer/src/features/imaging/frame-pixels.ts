/**
 * A decoded frame's samples made ready for cornerstone (what the loader's own worker does after decoding): typed
 * view by bits allocated, sign extension, optional modality rescale, smallest/largest value, compact buffer. No
 * codec here: the decode workers use it after their codecs, and the pool runs it on the page for native
 * (uncompressed little-endian) frames, which need no decoding — a worker round trip cost more than the work.
 */
import { simdMinMax16 } from './minmax-simd';

export interface ImageFrame {
  samplesPerPixel: number;
  photometricInterpretation: string;
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored?: number;
  pixelRepresentation: number;
  planarConfiguration?: number;
  smallestPixelValue?: number;
  largestPixelValue?: number;
  pixelData?: unknown;
  pixelDataLength?: number;
  decodeTimeInMS?: number;
  preScale?: unknown;
  [k: string]: unknown;
}

export interface DecodeRequest {
  id: number;
  transferSyntax: string;
  imageFrame: ImageFrame;
  pixelData: ArrayBuffer;
  options?: {
    preScale?: { enabled?: boolean; scalingParameters?: { rescaleSlope?: number; rescaleIntercept?: number; modality?: string; suvbw?: number } };
    /**
     * Progressive first image: decode a JPEG 2000 frame this many resolution levels below full size and upsample
     * it to the frame's rows × columns (result flagged `reduced`). Grey JPEG 2000 only; other frames are refused.
     */
    reduce?: number;
  };
}

export type Samples = Int8Array | Uint8Array | Int16Array | Uint16Array | Float32Array;

/** Native little-endian syntaxes: the frame bytes are the samples (deflate applies to the data set, not them). */
export const NATIVE_LE_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.1.99']);

export function typed(bytes: Uint8Array, bitsAllocated: number, signed: boolean): Samples {
  // Views need an aligned offset: copy when the frame starts at an odd byte.
  const buf = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  if (bitsAllocated <= 8) return signed ? new Int8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  if (bitsAllocated === 16) return signed ? new Int16Array(buf.buffer, buf.byteOffset, buf.byteLength >> 1) : new Uint16Array(buf.buffer, buf.byteOffset, buf.byteLength >> 1);
  if (bitsAllocated === 32) return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength >> 2);
  throw new Error(`BitsAllocated ${bitsAllocated} non pris en charge`);
}

// 16-bit grey (CT, MR, CR…): WebAssembly SIMD where it runs (minmax-simd.ts: Chromium, Electron, Node), ~7× faster
// than the loop below.
function minMax16(p: Int16Array | Uint16Array): [number, number] {
  return simdMinMax16()?.(p) ?? minMaxAny(p);
}

function minMaxAny(p: Samples): [number, number] {
  let min = p.length ? p[0]! : 0;
  let max = min;
  for (let i = 1, n = p.length; i < n; i++) {
    const v = p[i]!;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  return [min, max];
}

/** Sign extension, rescale (when asked), smallest/largest value, compact buffer: `f` completed and returned. */
export function finishFrame(f: ImageFrame, pixels: Samples, options: DecodeRequest['options'], started: number): ImageFrame {
  // Sign-extend signed samples stored on fewer bits than allocated.
  if (f.pixelRepresentation === 1 && f.bitsStored && f.bitsStored < f.bitsAllocated && !(pixels instanceof Float32Array)) {
    const shift = 32 - f.bitsStored;
    for (let i = 0; i < pixels.length; i++) pixels[i] = (pixels[i]! << shift) >> shift;
  }
  const scale = options?.preScale;
  if (scale?.enabled && scale.scalingParameters) {
    const { rescaleSlope: m, rescaleIntercept: b, modality, suvbw } = scale.scalingParameters;
    if (typeof m === 'number' && typeof b === 'number') {
      if (modality === 'PT' && typeof suvbw === 'number') for (let i = 0; i < pixels.length; i++) pixels[i] = suvbw * (pixels[i]! * m + b);
      else for (let i = 0; i < pixels.length; i++) pixels[i] = pixels[i]! * m + b;
      f.preScale = { ...scale, scaled: true };
    }
  }
  const [min, max] = pixels instanceof Int16Array || pixels instanceof Uint16Array ? minMax16(pixels) : minMaxAny(pixels);
  f.smallestPixelValue = min;
  f.largestPixelValue = max;
  f.pixelDataLength = pixels.length;
  // The loader rebuilds the typed array from the buffer: hand over a compact one.
  f.pixelData = pixels.byteOffset === 0 && pixels.byteLength === pixels.buffer.byteLength ? pixels.buffer : pixels.slice().buffer;
  f.decodeTimeInMS = performance.now() - started;
  return f;
}

/** A native little-endian frame, ready (no decoding: a view of its bytes). */
export function nativeFrame(f: ImageFrame, bytes: Uint8Array, options: DecodeRequest['options']): ImageFrame {
  const started = performance.now();
  return finishFrame(f, typed(bytes, f.bitsAllocated, f.pixelRepresentation === 1), options, started);
}
