import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseDicom } from '../../../src/main/imaging/dicom/parser';
import { framesOf } from '../../../src/main/imaging/frames';
import { decodeJ2K, decodeJ2KReduced, previewLevel, upsample, type J2KModule } from '../../../src/renderer/src/features/imaging/j2k';

/**
 * The progressive first image of JPEG 2000 series: OpenJPEG's sub-resolution decode (the same WebAssembly build
 * as the viewer workers) and its upsampling back to the image geometry, against the full decode of the same
 * code stream: a synthetic 512² 12-bit CT-like slice encoded losslessly here, and pydicom's
 * MR_small_jp2klossless.dcm when installed.
 */

const require_ = createRequire(import.meta.url);
const DIST = path.dirname(require_.resolve('@cornerstonejs/codec-openjpeg/decodewasmjs'));
const SAMPLES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';

type Factory = (o: object) => Promise<unknown>;
interface EncoderModule {
  J2KEncoder: new () => { getDecodedBuffer(info: object): Uint8Array; getEncodedBuffer(): Uint8Array; encode(): void; setDecompositions(n: number): void; delete(): void };
}

let dec: J2KModule;
let enc: EncoderModule;

beforeAll(async () => {
  const quiet = { print: () => {}, printErr: () => {} };
  dec = (await (require_(path.join(DIST, 'openjpegwasm_decode.js')) as Factory)({ ...quiet, locateFile: () => path.join(DIST, 'openjpegwasm_decode.wasm') })) as J2KModule;
  enc = (await (require_(path.join(DIST, 'openjpegwasm.js')) as Factory)({ ...quiet, locateFile: () => path.join(DIST, 'openjpegwasm.wasm') })) as EncoderModule;
});

/** A CT-like 12-bit slice: body ellipse (soft tissue), lungs, a bright bone ring, smooth texture, air around. */
function phantom(w: number, h: number): Uint16Array {
  const px = new Uint16Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const u = (x - w / 2) / (w * 0.42);
      const v = (y - h / 2) / (h * 0.34);
      const r = u * u + v * v;
      let hu = -1000;
      if (r < 1) hu = 40 + 25 * Math.sin(x / 9) * Math.cos(y / 13);
      if (((x - w * 0.33) / (w * 0.12)) ** 2 + ((y - h / 2) / (h * 0.2)) ** 2 < 1) hu = -820;
      if (((x - w * 0.67) / (w * 0.12)) ** 2 + ((y - h / 2) / (h * 0.2)) ** 2 < 1) hu = -820;
      if (r > 0.85 && r < 0.9) hu = 900;
      px[y * w + x] = hu + 1024; // stored value, rescale intercept -1024
    }
  return px;
}

function encode(px: Uint16Array, w: number, h: number, decompositions?: number): Uint8Array {
  const e = new enc.J2KEncoder();
  try {
    if (decompositions !== undefined) e.setDecompositions(decompositions);
    e.getDecodedBuffer({ width: w, height: h, bitsPerSample: 12, componentCount: 1, isSigned: false, isUsingColorTransform: false }).set(new Uint8Array(px.buffer));
    e.encode();
    return new Uint8Array(e.getEncodedBuffer());
  } finally {
    e.delete();
  }
}

/** The full image averaged over 2×2 blocks (what a half-size image should approximate). */
function downsample2(full: Uint16Array, w: number, h: number): Float64Array {
  const rw = Math.ceil(w / 2);
  const rh = Math.ceil(h / 2);
  const out = new Float64Array(rw * rh);
  for (let j = 0; j < rh; j++)
    for (let i = 0; i < rw; i++) {
      let s = 0;
      let n = 0;
      for (let dy = 0; dy < 2; dy++)
        for (let dx = 0; dx < 2; dx++) {
          const x = 2 * i + dx;
          const y = 2 * j + dy;
          if (x < w && y < h) {
            s += full[y * w + x]!;
            n++;
          }
        }
      out[j * rw + i] = s / n;
    }
  return out;
}

const meanAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
};

describe('JPEG 2000 reduced-resolution decode (progressive first image)', () => {
  it('decodes a 512² 12-bit slice at half size, close to the 2×2-averaged full decode, and upsamples it to 512²', () => {
    const W = 512;
    const H = 512;
    const src = phantom(W, H);
    const code = encode(src, W, H);

    const full = decodeJ2K(dec, code);
    expect(full).toMatchObject({ width: W, height: H, level: 0 });
    const fullPx = new Uint16Array(full.bytes.buffer);
    expect(Buffer.compare(Buffer.from(fullPx.buffer), Buffer.from(src.buffer))).toBe(0); // lossless round trip

    const half = decodeJ2K(dec, code, 1);
    expect(half.info).toMatchObject({ width: W, height: H, bitsPerSample: 12, componentCount: 1 }); // the declared geometry
    expect(half).toMatchObject({ width: 256, height: 256, level: 1 });
    expect(half.bytes.length).toBe(256 * 256 * 2);
    const halfPx = new Uint16Array(half.bytes.buffer);
    const ref = downsample2(fullPx, W, H);
    // Soft tissue/air/bone span ~1900 stored values: the low-pass band stays within a few units of the block mean
    // (a wrong level, a shift or a byte-order error would be off by hundreds).
    expect(meanAbs(halfPx, ref)).toBeLessThan(12);
    // Bone ring and lungs are there: the histogram is not flattened.
    expect(Math.max(...halfPx)).toBeGreaterThan(1024 + 800);
    expect(Math.min(...halfPx)).toBeLessThan(1024 - 800);

    const up = upsample(halfPx, half.width, half.height, W, H, 1);
    expect(up).toBeInstanceOf(Uint16Array);
    expect(up.length).toBe(W * H);
    // Even pixels are the reduced samples themselves; the upsampled image is close to the full one.
    expect(up[2 * 100 * W + 2 * 77]).toBe(halfPx[100 * 256 + 77]);
    expect(meanAbs(up, fullPx)).toBeLessThan(20);

    // Level 2 (quarter size) is still sound; more levels than the code stream has are refused.
    const quarter = decodeJ2K(dec, code, 2);
    expect(quarter).toMatchObject({ width: 128, height: 128 });
    expect(() => decodeJ2K(dec, code, 9)).toThrow();
  });

  it('steps down to the deepest level a code stream has (2 decompositions, 4 asked), refuses none', () => {
    const src = phantom(256, 256);
    const two = encode(src, 256, 256, 2);
    expect(() => decodeJ2K(dec, two, 3)).toThrow();
    expect(decodeJ2KReduced(dec, two, 4)).toMatchObject({ level: 2, width: 64, height: 64 });
    expect(() => decodeJ2KReduced(dec, encode(src, 256, 256, 0), 1)).toThrow();
  });

  it('handles odd sizes: ceil(size / 2) samples, edges repeated when upsampling', () => {
    const W = 75;
    const H = 41;
    const src = phantom(W, H);
    const half = decodeJ2K(dec, encode(src, W, H), 1);
    expect(half).toMatchObject({ width: 38, height: 21 });
    const halfPx = new Uint16Array(half.bytes.buffer);
    // Tiny and edge-dominated (the thin bone ring): within 5 % of the ~1,900-unit range of the block means.
    expect(meanAbs(halfPx, downsample2(src, W, H))).toBeLessThan(95);
    const up = upsample(halfPx, 38, 21, W, H, 1);
    expect(up.length).toBe(W * H);
    expect(up[W * H - 1]).toBe(halfPx[38 * 21 - 1]); // last pixel = last reduced sample (even coordinates)
  });

  it('chooses one level below full size up to 512², about 256 samples on the long side beyond', () => {
    expect(previewLevel(512, 512)).toBe(1);
    expect(previewLevel(64, 64)).toBe(1);
    expect(previewLevel(1024, 1024)).toBe(2);
    expect(previewLevel(2048, 2500)).toBe(4);
    expect(previewLevel(3000, 2000)).toBe(4);
    expect(previewLevel(2048, 1536)).toBe(3);
  });

  it('upsamples signed samples by bilinear interpolation between the reduced ones', () => {
    const src = Int16Array.from([-1000, 0, 1000, 2000]); // 2×2
    const up = upsample(src, 2, 2, 4, 4, 1);
    expect(up).toBeInstanceOf(Int16Array);
    expect([...up.subarray(0, 4)]).toEqual([-1000, -500, 0, 0]);
    expect([...up.subarray(4, 8)]).toEqual([0, 500, 1000, 1000]);
    expect([...up.subarray(12, 16)]).toEqual([1000, 1500, 2000, 2000]);
  });

  it.skipIf(!fs.existsSync(path.join(SAMPLES, 'MR_small_jp2klossless.dcm')))('pydicom’s MR_small_jp2klossless.dcm at half size matches its full decode downsampled', () => {
    const parsed = parseDicom(fs.readFileSync(path.join(SAMPLES, 'MR_small_jp2klossless.dcm')));
    const f = framesOf(parsed);
    expect(f.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.90');
    const full = decodeJ2K(dec, f.frames[0]!);
    const half = decodeJ2K(dec, f.frames[0]!, 1);
    const w = full.width;
    const h = full.height;
    expect(half).toMatchObject({ width: Math.ceil(w / 2), height: Math.ceil(h / 2) });
    const fullPx = full.info.isSigned ? new Int16Array(full.bytes.buffer) : new Uint16Array(full.bytes.buffer);
    const halfPx = full.info.isSigned ? new Int16Array(half.bytes.buffer) : new Uint16Array(half.bytes.buffer);
    let range = 0;
    for (const v of fullPx) range = Math.max(range, Math.abs(v));
    // A real MR (sharp edges at 64²): the half-size image within a few percent of the signal range of the block means.
    expect(meanAbs(halfPx, downsample2(Uint16Array.from(fullPx), w, h))).toBeLessThan(range * 0.05);
  });
});
