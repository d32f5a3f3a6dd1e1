import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { T } from '../../../src/main/imaging/dicom/constants';
import { parseDicom } from '../../../src/main/imaging/dicom/parser';
import { framesOf } from '../../../src/main/imaging/frames';
import { decodeJpegLossless } from '../../../src/renderer/src/features/imaging/jpeg-lossless';
import { decodeRle } from '../../../src/renderer/src/features/imaging/rle';
import { tempDir } from '../../support/tmp';

/**
 * The viewer's lossless JPEG decoder (process 14) against references decoded another way: pydicom's
 * SC_rgb_jpeg_gdcm.dcm (GDCM, selection value 1, RGB) against the same picture stored RLE (SC_rgb_rle.dcm, our RLE
 * decoder); and, when dcmtk is installed, pydicom's CT_small.dcm and MR_small.dcm (16-bit signed and unsigned
 * grey) compressed here by dcmtk's dcmcjpeg with each predictor 1–7 and with a point transform,
 * compared with the original uncompressed pixels.
 */

const SAMPLES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const HAS_SAMPLES = fs.existsSync(path.join(SAMPLES, 'SC_rgb_jpeg_gdcm.dcm'));
const HAS_DCMTK = spawnSync('dcmcjpeg', ['--version']).status === 0;

function frame(file: string): { ts: string; bytes: Uint8Array; ds: ReturnType<typeof parseDicom>['dataset'] } {
  const parsed = parseDicom(fs.readFileSync(file));
  const f = framesOf(parsed);
  return { ts: f.transferSyntaxUid, bytes: f.frames[0]!, ds: parsed.dataset };
}

describe.skipIf(!HAS_SAMPLES)('lossless JPEG (1.2.840.10008.1.2.4.57/.70) in the viewer decoder', () => {
  it('decodes GDCM’s RGB sample exactly like the same picture stored RLE', () => {
    const jpeg = frame(path.join(SAMPLES, 'SC_rgb_jpeg_gdcm.dcm'));
    expect(jpeg.ts).toBe('1.2.840.10008.1.2.4.70');
    const out = decodeJpegLossless(jpeg.bytes);
    expect(out).toMatchObject({ width: 100, height: 100, components: 3, precision: 8 });
    const rle = frame(path.join(SAMPLES, 'SC_rgb_rle.dcm'));
    const ref = decodeRle(rle.bytes, { rows: 100, columns: 100, bitsAllocated: 8, samplesPerPixel: 3, planarConfiguration: 0 });
    expect(Buffer.compare(Buffer.from(out.pixels), Buffer.from(ref))).toBe(0);
    expect(new Set(out.pixels).size).toBeGreaterThan(3); // colour bars, not a flat field
  });

  it('refuses what is not lossless JPEG with a clear message', () => {
    const baseline = frame(path.join(SAMPLES, 'SC_rgb_jpeg_dcmtk.dcm'));
    expect(() => decodeJpegLossless(baseline.bytes)).toThrow(/non sans perte/);
    expect(() => decodeJpegLossless(new Uint8Array([1, 2, 3, 4]))).toThrow(/SOI/);
  });

  describe.skipIf(!HAS_DCMTK)('16-bit grey compressed by dcmtk, every predictor', () => {
    const cases: [file: string, args: string[]][] = [];
    for (const file of ['CT_small.dcm', 'MR_small.dcm']) {
      for (let sv = 1; sv <= 7; sv++) cases.push([file, ['+el', '+sv', String(sv)]]);
      cases.push([file, ['+el', '+sv', '4', '+pt', '2']]); // point transform: the low bits are dropped
      cases.push([file, ['+e1']]); // the .70 syntax (selection value 1)
    }
    it.each(cases)('%s %j', (file, args) => {
      const tmp = tempDir('lps-jll-');
      try {
        const out = path.join(tmp.dir, 'out.dcm');
        const r = spawnSync('dcmcjpeg', [...args, path.join(SAMPLES, file), out], { encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        const src = parseDicom(fs.readFileSync(path.join(SAMPLES, file))).dataset;
        const original = new Uint16Array(Uint8Array.from(src.raw(T.PixelData)!).buffer);
        const jpeg = frame(out);
        expect(jpeg.ts).toBe(args[0] === '+e1' ? '1.2.840.10008.1.2.4.70' : '1.2.840.10008.1.2.4.57');
        const decoded = decodeJpegLossless(jpeg.bytes);
        expect(decoded.width * decoded.height).toBe(original.length);
        const pt = args.includes('+pt') ? Number(args[args.indexOf('+pt') + 1]) : 0;
        const bitsStored = src.uint16(0x00280101)!;
        const mask = ((1 << bitsStored) - 1) & ~((1 << pt) - 1) & 0xffff;
        let mismatches = 0;
        for (let i = 0; i < original.length; i++) if ((decoded.pixels[i]! & mask) !== (original[i]! & mask)) mismatches++;
        expect(mismatches).toBe(0);
      } finally {
        tmp.cleanup();
      }
    });
  });
});
