/**
 * JPEG 2000 decoding for the viewer workers (OpenJPEG, @cornerstonejs/codec-openjpeg), full or at a reduced
 * resolution. A JPEG 2000 code stream is a wavelet pyramid: decoding it up to resolution level `r` below the
 * full one (`decodeSubResolution(r, 0)`) skips the detail bands of the `r` finest levels and yields the image at
 * 1/2^r of its size, for a fraction of the work (level 1: ~4× fewer samples, ~3–5× faster here). The viewer shows
 * such a reduced decode of a series' first image, upsampled to the image's real geometry, while the full decode
 * finishes (see frame-stream.ts `preview`). Plain module (no worker globals, no Vite asset imports): unit-tested
 * in Node with the same WebAssembly build.
 */

export interface J2KFrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}

/** The parts of OpenJPEG's embind `J2KDecoder` we use. */
export interface J2KDecoderLike {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): J2KFrameInfo;
  decode(): void;
  decodeSubResolution(decodeLevel: number, decodeLayer: number): void;
  calculateSizeAtDecompositionLevel(decodeLevel: number): { width: number; height: number };
  getNumDecompositions(): number;
  delete(): void;
}

export interface J2KModule {
  J2KDecoder: new () => J2KDecoderLike;
}

export interface J2KDecoded {
  /** Full-resolution frame information (what the code stream declares). */
  info: J2KFrameInfo;
  /** Size of the decoded samples: the full size, or the reduced one for `level` > 0. */
  width: number;
  height: number;
  /** Resolution levels skipped (0 = full decode). */
  level: number;
  /** Decoded samples (interleaved components, 1 or 2 bytes each), copied out of the WebAssembly heap. */
  bytes: Uint8Array;
}

/**
 * Decodes a JPEG 2000 frame (J2K code stream or JP2) fully, or `level` resolution levels below full size.
 * Throws when the code stream has fewer decomposition levels than asked (the caller then decodes fully).
 */
export function decodeJ2K(mod: J2KModule, data: Uint8Array, level = 0): J2KDecoded {
  const dec = new mod.J2KDecoder();
  try {
    dec.getEncodedBuffer(data.length).set(data);
    if (level > 0) dec.decodeSubResolution(level, 0);
    else dec.decode();
    const info = dec.getFrameInfo();
    if (level > 0 && dec.getNumDecompositions() < level) throw new Error(`JPEG 2000 : ${dec.getNumDecompositions()} niveau(x) de décomposition, ${level} demandé(s)`);
    const size = level > 0 ? dec.calculateSizeAtDecompositionLevel(level) : { width: info.width, height: info.height };
    const bytes = new Uint8Array(dec.getDecodedBuffer());
    const expected = size.width * size.height * info.componentCount * (info.bitsPerSample > 8 ? 2 : 1);
    if (bytes.length !== expected) throw new Error(`JPEG 2000 : ${bytes.length} octets décodés, ${expected} attendus (${size.width}×${size.height})`);
    return { info, width: size.width, height: size.height, level, bytes };
  } finally {
    dec.delete();
  }
}

/**
 * Resolution levels below full size of the progressive preview: one level (half width and height, ~4× fewer
 * samples) for images up to 512², more for larger ones so that the preview has at most 256 samples on its long side
 * (a 2048² radiograph: 3 levels). `decodeJ2KReduced` steps down when the code stream has fewer decomposition levels.
 */
export function previewLevel(rows: number, columns: number): number {
  const long = Math.max(rows, columns);
  return long > 512 ? Math.min(5, Math.ceil(Math.log2(long / 256))) : 1;
}

/** `decodeJ2K` at `level`, or at the deepest level (≥ 1) the code stream has when it has fewer decompositions. */
export function decodeJ2KReduced(mod: J2KModule, data: Uint8Array, level: number): J2KDecoded {
  for (let l = level; ; l--) {
    try {
      return decodeJ2K(mod, data, l);
    } catch (err) {
      if (l <= 1) throw err;
    }
  }
}

type Samples = Uint8Array | Int8Array | Uint16Array | Int16Array;

/**
 * Bilinear upsampling of a single-component image decoded `level` levels below full size back to the full
 * `width` × `height`. Sample (i, j) of the reduced image sits on full-resolution pixel (i·2^level, j·2^level)
 * (the reversible 5/3 and irreversible 9/7 low-pass bands are centred on the even samples, image offset 0);
 * pixels in between are interpolated, the last row/column repeated at the edges.
 */
export function upsample<T extends Samples>(src: T, rw: number, rh: number, width: number, height: number, level: number): T {
  const out = new (src.constructor as new (n: number) => T)(width * height);
  const f = 1 << level;
  // Per column: left index and weight (fixed point, 8 bits), computed once.
  const x0 = new Int32Array(width);
  const wx = new Int32Array(width);
  for (let x = 0; x < width; x++) {
    const p = x / f;
    const i = Math.min(rw - 1, Math.floor(p));
    x0[x] = i;
    wx[x] = i >= rw - 1 ? 0 : Math.round((p - i) * 256);
  }
  for (let y = 0; y < height; y++) {
    const p = y / f;
    const j = Math.min(rh - 1, Math.floor(p));
    const wy = j >= rh - 1 ? 0 : Math.round((p - j) * 256);
    const r0 = j * rw;
    const r1 = wy ? r0 + rw : r0;
    const o = y * width;
    for (let x = 0; x < width; x++) {
      const i = x0[x]!;
      const a = wx[x]!;
      const i1 = a ? i + 1 : i;
      const top = src[r0 + i]! * (256 - a) + src[r0 + i1]! * a;
      const bottom = src[r1 + i]! * (256 - a) + src[r1 + i1]! * a;
      out[o + x] = Math.round((top * (256 - wy) + bottom * wy) / 65536);
    }
  }
  return out;
}
