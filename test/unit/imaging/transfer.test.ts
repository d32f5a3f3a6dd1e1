import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/main/core/errors';
import { DiskCache } from '../../../src/main/imaging/disk-cache';
import { buildExams, kosForReport, type ImagingDocumentEntry } from '../../../src/main/imaging/exams';
import { multipartBoundary, readMultipart } from '../../../src/main/imaging/multipart';
import { tempDir } from '../../support/tmp';

function body(parts: Buffer[], boundary: string): Buffer {
  const out: Buffer[] = [];
  for (const p of parts) out.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), p, Buffer.from('\r\n'));
  out.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(out);
}

async function* chunks(b: Buffer, size: number) {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

describe('multipart/related reader', () => {
  const boundary = 'b0und4ry-1234';
  // Parts that contain CRLF, dashes and a near-boundary: only the exact delimiter splits.
  const parts = [Buffer.from(`DICM\r\n--b0und4ry-123\r\nxx`), Buffer.alloc(3000, 7), Buffer.from('--')];
  const whole = body(parts, boundary);

  it('reads the boundary from the content type', () => {
    expect(multipartBoundary(`multipart/related; type="application/dicom"; boundary="${boundary}"`)).toBe(boundary);
    expect(multipartBoundary(`multipart/related; boundary=${boundary}; type=x`)).toBe(boundary);
    expect(multipartBoundary('application/json')).toBeUndefined();
  });

  it('reads large parts split over many chunks, each part exactly its bytes', async () => {
    const big = [Buffer.alloc(300_000, 1), Buffer.from(`x\r\n--${boundary.slice(0, -1)}\r\n--`), Buffer.alloc(70_000, 2)];
    big[0]![123_456] = 9;
    const whole2 = body(big, boundary);
    for (const size of [4095, 4096, 65536, 100_001]) {
      const got = [];
      for await (const p of readMultipart(chunks(whole2, size), boundary)) got.push(p.body);
      expect(got.map((b) => b.length)).toEqual(big.map((b) => b.length));
      expect(got.every((b, i) => b.equals(big[i]!))).toBe(true);
    }
  });

  it('gives the same parts whatever the chunking', async () => {
    for (const size of [1, 2, 3, 7, 13, 64, 1000, whole.length]) {
      const got = [];
      for await (const p of readMultipart(chunks(whole, size), boundary)) got.push(p);
      expect(got.map((p) => p.body)).toEqual(parts);
      expect(got[0]!.headers['content-type']).toBe('application/dicom');
    }
  });

  it('fails with IMAGING_DICOMWEB_TRUNCATED when the body stops before the closing boundary', async () => {
    const cut = whole.subarray(0, whole.length - 20);
    await expect((async () => { for await (const _ of readMultipart(chunks(cut, 100), boundary)) { /* drain */ } })()).rejects.toSatisfy(
      (e: unknown) => e instanceof AppError && e.code === 'IMAGING_DICOMWEB_TRUNCATED',
    );
  });
});

describe('disk cache', () => {
  it('evicts the least recently used entries beyond its cap, and a new key cannot read old entries', () => {
    const t = tempDir();
    try {
      const key = Buffer.alloc(32, 1);
      const c = new DiskCache(t.dir, 3 * 1100, key);
      c.put('a', Buffer.alloc(1000, 1));
      c.put('b', Buffer.alloc(1000, 2));
      c.put('c', Buffer.alloc(1000, 3));
      expect(c.get('a')?.[0]).toBe(1); // a is now the most recent
      c.put('d', Buffer.alloc(1000, 4));
      expect(c.get('b')).toBeUndefined();
      expect(c.get('a')?.[0]).toBe(1);
      expect(c.size).toBeLessThanOrEqual(3 * 1100);
      expect(fs.readdirSync(t.dir)).toHaveLength(3);
      const reopened = new DiskCache(t.dir, 10_000, key);
      expect(reopened.get('d')?.[0]).toBe(4);
      const otherKey = new DiskCache(t.dir, 10_000, Buffer.alloc(32, 2));
      expect(otherKey.get('d')).toBeUndefined();
      // Tampering is detected (GCM): the entry is dropped.
      const f = path.join(t.dir, fs.readdirSync(t.dir)[0]!);
      const b = fs.readFileSync(f);
      b[b.length - 1] = (b[b.length - 1] ?? 0) ^ 1;
      fs.writeFileSync(f, b);
      const found = ['a', 'c', 'd'].map((k) => reopened.get(k)).filter(Boolean);
      expect(found).toHaveLength(2);
    } finally {
      t.cleanup();
    }
  });
});

describe('exams: KOS ↔ CR-IMG by accession number', () => {
  const an = (v: string, oid = '1.2.250.1.999.1') => `${v}^^^&${oid}&ISO^urn:ihe:iti:xds:2013:accession`;
  const entries: ImagingDocumentEntry[] = [
    { uniqueId: 'kos-ct', typeCode: 'IMG-KOS', title: 'TDM', serviceStartTime: '20260115101500', eventCodes: [{ code: 'CT', scheme: '1.2.250.1.213.1.1.5.618' }, { code: '67734004', scheme: '1.2.250.1.213.1.1.5.695' }], referenceIds: [an('A1')] },
    { uniqueId: 'kos-mr', typeCode: 'IMG-KOS', title: 'IRM', serviceStartTime: '20250603', eventCodes: [{ code: 'MR', scheme: '1.2.250.1.213.1.1.5.618' }], referenceIds: [an('A2')] },
    { uniqueId: 'kos-other-issuer', typeCode: 'IMG-KOS', serviceStartTime: '20240101', eventCodes: [], referenceIds: [an('A1', '1.2.250.1.999.2')] },
    { uniqueId: 'cr-ct', typeCode: '18748-4', title: 'CR TDM', creationTime: '20260116', eventCodes: [], referenceIds: [an('A1')] },
  ];

  it('links reports to their KOS (same accession number and issuer) and sorts newest first', () => {
    const exams = buildExams(entries);
    expect(exams.map((e) => e.kosUniqueId)).toEqual(['kos-ct', 'kos-mr', 'kos-other-issuer']);
    expect(exams[0]).toMatchObject({ accessionNumber: 'A1', modalities: ['CT'], date: '20260115', reports: [{ uniqueId: 'cr-ct', date: '20260116' }] });
    expect(exams[2]!.reports).toEqual([]);
    expect(kosForReport(entries, 'cr-ct').map((e) => e.uniqueId)).toEqual(['kos-ct']);
  });

  it('filters by date range, modality and region', () => {
    expect(buildExams(entries, { from: '2025-01-01' }).map((e) => e.kosUniqueId)).toEqual(['kos-ct', 'kos-mr']);
    expect(buildExams(entries, { to: '2025-12-31', from: '2025-01-01' }).map((e) => e.kosUniqueId)).toEqual(['kos-mr']);
    expect(buildExams(entries, { modality: 'mr' }).map((e) => e.kosUniqueId)).toEqual(['kos-mr']);
    expect(buildExams(entries, { region: '67734004' }).map((e) => e.kosUniqueId)).toEqual(['kos-ct']);
  });
});
