import { describe, expect, it } from 'vitest';
import { nativeFrame, type ImageFrame } from '../../../src/renderer/src/features/imaging/frame-pixels';
import { decodeRle } from '../../../src/renderer/src/features/imaging/rle';
import { applyPreset, CT_PRESETS, MR_PRESETS } from '../../../src/renderer/src/features/imaging/presets';

/** PackBits-style RLE segment (PS3.5 G.3.1): literal runs and replicate runs. */
function packBits(bytes: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < bytes.length) {
    let run = 1;
    while (i + run < bytes.length && bytes[i + run] === bytes[i] && run < 128) run++;
    if (run >= 3) {
      out.push(257 - run, bytes[i]!); // -(run-1) as a signed byte
      i += run;
      continue;
    }
    const start = i;
    while (i < bytes.length && i - start < 128 && !(bytes[i + 1] === bytes[i] && bytes[i + 2] === bytes[i])) i++;
    out.push(i - start - 1, ...bytes.slice(start, i));
  }
  return out;
}

function rleFrame(segments: number[][]): Uint8Array {
  const header = new Uint8Array(64);
  const view = new DataView(header.buffer);
  view.setUint32(0, segments.length, true);
  let offset = 64;
  const encoded = segments.map((s) => packBits(s));
  encoded.forEach((e, i) => {
    view.setUint32(4 + i * 4, offset, true);
    offset += e.length + (e.length % 2); // segments are padded to even length
  });
  const out = new Uint8Array(offset);
  out.set(header);
  let pos = 64;
  for (const e of encoded) {
    out.set(e, pos);
    pos += e.length + (e.length % 2);
  }
  return out;
}

describe('RLE Lossless decoding in the viewer worker (PS3.5 Annex G)', () => {
  it('decodes 16-bit grey frames: high-byte then low-byte segments, literal and replicate runs', () => {
    const values = [0, 0, 0, 0, 1000, 1000, 1000, 1000, 65535, 12, 300, 4095];
    const high = values.map((v) => v >> 8);
    const low = values.map((v) => v & 0xff);
    const out = decodeRle(rleFrame([high, low]), { rows: 3, columns: 4, bitsAllocated: 16, samplesPerPixel: 1 });
    expect([...new Uint16Array(out.buffer)]).toEqual(values);
  });

  it('interleaves colour samples (planar configuration 0) and keeps planes for planar configuration 1', () => {
    const r = [255, 255, 255, 0];
    const g = [0, 10, 20, 30];
    const b = [7, 7, 7, 7];
    const interleaved = decodeRle(rleFrame([r, g, b]), { rows: 2, columns: 2, bitsAllocated: 8, samplesPerPixel: 3, planarConfiguration: 0 });
    expect([...interleaved]).toEqual([255, 0, 7, 255, 10, 7, 255, 20, 7, 0, 30, 7]);
    const planar = decodeRle(rleFrame([r, g, b]), { rows: 2, columns: 2, bitsAllocated: 8, samplesPerPixel: 3, planarConfiguration: 1 });
    expect([...planar]).toEqual([...r, ...g, ...b]);
  });

  it('refuses a frame whose segment count does not match the image, or whose offsets leave the data', () => {
    const frame = rleFrame([[1, 2, 3, 4]]);
    expect(() => decodeRle(frame, { rows: 2, columns: 2, bitsAllocated: 16, samplesPerPixel: 1 })).toThrow(/segments/);
    const bad = rleFrame([[1, 2, 3, 4]]);
    new DataView(bad.buffer).setUint32(4, 10_000, true);
    expect(() => decodeRle(bad, { rows: 2, columns: 2, bitsAllocated: 8, samplesPerPixel: 1 })).toThrow(/hors limites/);
    expect(() => decodeRle(new Uint8Array(10), { rows: 1, columns: 1, bitsAllocated: 8, samplesPerPixel: 1 })).toThrow(/tronqué/);
  });
});

describe('window/level presets', () => {
  it('CT presets are absolute Hounsfield windows; MR presets are relative to the image window', () => {
    expect(applyPreset(CT_PRESETS.find((p) => p.id === 'lung')!, { windowWidth: 400, windowCenter: 40 })).toEqual({ windowWidth: 1500, windowCenter: -600 });
    expect(applyPreset(MR_PRESETS.find((p) => p.id === 'high')!, { windowWidth: 800, windowCenter: 300 })).toEqual({ windowWidth: 400, windowCenter: 300 });
    expect(applyPreset(MR_PRESETS.find((p) => p.id === 'bright')!, { windowWidth: 800, windowCenter: 300 })).toEqual({ windowWidth: 800, windowCenter: 100 });
  });

  describe('native frames made ready on the page', () => {
    const grey = (over: Partial<ImageFrame> = {}): ImageFrame => ({ samplesPerPixel: 1, photometricInterpretation: 'MONOCHROME2', rows: 2, columns: 3, bitsAllocated: 16, bitsStored: 16, pixelRepresentation: 1, ...over });
    const le16 = (values: number[]) => new Uint8Array(new Int16Array(values).buffer);

    it('gives the smallest and largest signed values and hands over the frame buffer itself', () => {
      const bytes = le16([-1024, 0, 3071, -2000, 12, 5]);
      const f = nativeFrame(grey(), bytes, undefined);
      expect([f.smallestPixelValue, f.largestPixelValue, f.pixelDataLength]).toEqual([-2000, 3071, 6]);
      expect(f.pixelData).toBe(bytes.buffer);
    });

    it('sign-extends 12-bit samples stored in 16 bits, and reads unsigned ones as unsigned', () => {
      // 0x0FFF on 12 bits is -1; 0x0800 is -2048.
      const f = nativeFrame(grey({ bitsStored: 12 }), le16([0x0fff, 0x0800, 0x07ff, 0, 1, 2]), undefined);
      expect(Array.from(new Int16Array(f.pixelData as ArrayBuffer))).toEqual([-1, -2048, 2047, 0, 1, 2]);
      expect([f.smallestPixelValue, f.largestPixelValue]).toEqual([-2048, 2047]);
      const u = nativeFrame(grey({ pixelRepresentation: 0 }), new Uint8Array(new Uint16Array([65535, 7, 40000, 0, 1, 2]).buffer), undefined);
      expect([u.smallestPixelValue, u.largestPixelValue]).toEqual([0, 65535]);
    });

    it('copies out a frame that is part of a larger buffer, aligned or not, and handles 8-bit samples', () => {
      const big = new Uint8Array(64);
      big.set(le16([5, -7, 9, 1, 2, 3]), 16);
      const f = nativeFrame(grey(), big.subarray(16, 28), undefined);
      expect((f.pixelData as ArrayBuffer).byteLength).toBe(12);
      expect([f.smallestPixelValue, f.largestPixelValue]).toEqual([-7, 9]);
      const odd = new Uint8Array(64);
      odd.set(le16([300, -300, 0, 0, 0, 0]), 3);
      const g = nativeFrame(grey(), odd.subarray(3, 15), undefined);
      expect(Array.from(new Int16Array(g.pixelData as ArrayBuffer))).toEqual([300, -300, 0, 0, 0, 0]);
      const b = nativeFrame(grey({ bitsAllocated: 8, bitsStored: 8, pixelRepresentation: 0 }), new Uint8Array([9, 200, 3, 4, 5, 6]), undefined);
      expect([b.smallestPixelValue, b.largestPixelValue]).toEqual([3, 200]);
    });

    it('applies the modality rescale when asked', () => {
      const f = nativeFrame(grey({ bitsStored: 12 }), le16([0, 1024, 2000, 10, 20, 30]), { preScale: { enabled: true, scalingParameters: { rescaleSlope: 1, rescaleIntercept: -1024, modality: 'CT' } } });
      expect([f.smallestPixelValue, f.largestPixelValue]).toEqual([-1024, 976]);
      expect(f.preScale).toMatchObject({ scaled: true });
    });
  });
});

