import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/main/core/errors';
import { TS } from '../../../src/main/imaging/dicom/constants';
import { parseDicom } from '../../../src/main/imaging/dicom/parser';
import { encodeDataSet, writePart10 } from '../../../src/main/imaging/dicom/writer';
import { kosInstances, parseKos } from '../../../src/main/imaging/kos';
import { INS_NIR_OID, writeKos, type KosWriteInput } from '../../../src/main/imaging/kos-writer';
import { HAS_SHARED, SHARED_MISSING, sharedPath } from '../../support/shared';

const CT = '1.2.840.10008.5.1.4.1.1.2';

function sample(overrides: Partial<KosWriteInput> = {}): KosWriteInput {
  return {
    patient: { id: '279035121518989', issuerOid: INS_NIR_OID, name: 'HÉLÈNE^Zoé', birthDate: '19790101', sex: 'F' },
    accessionNumber: 'ACC-0001',
    studyDate: '20260310',
    studyDescription: 'TDM thoracique',
    studies: [
      {
        studyInstanceUid: '1.2.250.1.999.1',
        series: [
          {
            seriesInstanceUid: '1.2.250.1.999.1.1',
            retrieveUrl: 'https://pacs.example.fr/dicom-web/studies/1.2.250.1.999.1/series/1.2.250.1.999.1.1',
            instances: [
              { sopClassUid: CT, sopInstanceUid: '1.2.250.1.999.1.1.1' },
              { sopClassUid: CT, sopInstanceUid: '1.2.250.1.999.1.1.2' },
            ],
          },
          {
            seriesInstanceUid: '1.2.250.1.999.1.2',
            retrieveUrl: 'https://pacs.example.fr/dicom-web/studies/1.2.250.1.999.1/series/1.2.250.1.999.1.2',
            urlInWadoRsSequence: true,
            instances: [{ sopClassUid: CT, sopInstanceUid: '1.2.250.1.999.1.2.1' }],
          },
        ],
      },
    ],
    ...overrides,
  };
}

function expectAppError(fn: () => unknown, codePrefix: string): AppError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code.startsWith(codePrefix)).toBe(true);
    return err as AppError;
  }
  throw new Error('expected an AppError');
}

describe.skipIf(!HAS_SHARED)(`NIST KOS fixtures ${HAS_SHARED ? '' : SHARED_MISSING}`, () => {
  it('parses the single-image CR manifest (explicit VR, undefined lengths) with its DICOM retrieve hints', () => {
    const kos = parseKos(fs.readFileSync(sharedPath('fixtures', 'kos', 'nist-IDS-DEPT001-a.dcm')));
    expect(kos.sopInstanceUid).toBe('2.25.193880843752755703630633023020422049279');
    expect(kos.title).toEqual({ code: '113030', scheme: 'DCM', meaning: 'Manifest' });
    expect(kos.patient).toMatchObject({ id: 'IDS-DEPT001-a', name: 'Computed-Rad^Single^a' });
    expect(kos.accessionNumber).toBe('IDS001-a');
    expect(kos.studies).toHaveLength(1);
    const series = kos.studies[0]!.series[0]!;
    expect(series.seriesInstanceUid).toBe('1.3.6.1.4.1.21367.201599.2.201604020954048');
    expect(series.instances).toEqual([{ sopClassUid: '1.2.840.10008.5.1.4.1.1.1', sopInstanceUid: '1.3.6.1.4.1.21367.201599.3.201604020954048.1' }]);
    // No Retrieve URL in this file: the fallbacks are kept, AE title first.
    expect(series.retrieve).toEqual({ source: 'ae-title', retrieveAeTitle: 'DCM4CHEE', retrieveLocationUid: '1.3.6.1.4.1.21367.13.80.110' });
  });

  it('parses the two-series MR manifest: 36 instances in KOS order', () => {
    const kos = parseKos(fs.readFileSync(sharedPath('fixtures', 'kos', 'nist-IDS-DEPT002-a.dcm')));
    expect(kos.studies[0]!.series.map((s) => s.instances.length)).toEqual([16, 20]);
    expect(kos.instanceCount).toBe(36);
    expect(kosInstances(kos)[0]!.instance.sopInstanceUid).toBe('1.3.6.1.4.1.21367.201599.3.201604020954059.35');
    expect(kosInstances(kos).every((r) => r.instance.sopClassUid === '1.2.840.10008.5.1.4.1.1.4')).toBe(true);
  });

  it('fails with an AppError, never a crash, on every truncation of a real file', () => {
    const bytes = fs.readFileSync(sharedPath('fixtures', 'kos', 'nist-IDS-DEPT001-a.dcm'));
    const full = parseKos(bytes);
    let parsed = 0;
    for (let n = 0; n < bytes.length; n++) {
      try {
        // A cut exactly between two top-level elements after the evidence is a shorter but valid dataset.
        expect(parseKos(bytes.subarray(0, n)).studies).toEqual(full.studies);
        parsed++;
      } catch (err) {
        expect(err, `cut at ${n}`).toBeInstanceOf(AppError);
      }
    }
    expect(parsed).toBeLessThanOrEqual(2);
  });
});

describe('generated KOS', () => {
  for (const ts of [TS.ExplicitLE, TS.ImplicitLE] as const) {
    for (const undefinedLengths of [false, true]) {
      it(`round-trips in ${ts === TS.ImplicitLE ? 'implicit' : 'explicit'} VR with ${undefinedLengths ? 'undefined' : 'defined'} lengths`, () => {
        const { bytes, sopInstanceUid } = writeKos(sample({ transferSyntaxUid: ts, undefinedLengths }));
        expect(bytes.toString('latin1', 128, 132)).toBe('DICM');
        const kos = parseKos(bytes);
        expect(kos.transferSyntaxUid).toBe(ts);
        expect(kos.sopInstanceUid).toBe(sopInstanceUid);
        expect(kos.patient).toEqual({ id: '279035121518989', issuer: INS_NIR_OID, name: 'HÉLÈNE^Zoé', birthDate: '19790101', sex: 'F' });
        expect(kos.accessionNumber).toBe('ACC-0001');
        const [s1, s2] = kos.studies[0]!.series;
        expect(s1!.retrieve).toEqual({
          source: 'series-retrieve-url',
          seriesUrl: 'https://pacs.example.fr/dicom-web/studies/1.2.250.1.999.1/series/1.2.250.1.999.1.1',
          dicomwebRoot: 'https://pacs.example.fr/dicom-web',
        });
        expect(s1!.instances.map((i) => i.sopInstanceUid)).toEqual(['1.2.250.1.999.1.1.1', '1.2.250.1.999.1.1.2']);
        expect(s2!.retrieve.source).toBe('wado-rs-retrieval');
        expect(s2!.retrieve.seriesUrl).toBe('https://pacs.example.fr/dicom-web/studies/1.2.250.1.999.1/series/1.2.250.1.999.1.2');
      });
    }
  }

  it('falls back to the study-level Retrieve URL, then to the AE title', () => {
    const input = sample();
    input.studies[0]!.retrieveUrl = 'http://127.0.0.1:9/wado/studies/1.2.250.1.999.1';
    delete input.studies[0]!.series[0]!.retrieveUrl;
    delete input.studies[0]!.series[1]!.retrieveUrl;
    let kos = parseKos(writeKos(input).bytes);
    expect(kos.studies[0]!.series[1]!.retrieve).toMatchObject({
      source: 'study-retrieve-url',
      seriesUrl: 'http://127.0.0.1:9/wado/studies/1.2.250.1.999.1/series/1.2.250.1.999.1.2',
    });
    delete input.studies[0]!.retrieveUrl;
    input.studies[0]!.series[0]!.retrieveAeTitle = 'PACS_CHU';
    kos = parseKos(writeKos(input).bytes);
    expect(kos.studies[0]!.series[0]!.retrieve).toEqual({ source: 'ae-title', retrieveAeTitle: 'PACS_CHU' });
    expect(kos.studies[0]!.series[1]!.retrieve).toEqual({ source: 'none' });
    expect(kos.warnings.join(' ')).toMatch(/no retrieve location/);
  });

  it('ignores a non-http Retrieve URL with a warning and keeps looking', () => {
    const input = sample();
    input.studies[0]!.series[0]!.retrieveUrl = 'file:///etc/passwd';
    input.studies[0]!.series[0]!.retrieveAeTitle = 'PACS_CHU';
    const kos = parseKos(writeKos(input).bytes);
    expect(kos.studies[0]!.series[0]!.retrieve.source).toBe('ae-title');
    expect(kos.warnings.some((w) => w.includes('not an http'))).toBe(true);
  });

  it('parses a bare dataset without the Part 10 header (implicit VR)', () => {
    const bytes = writeKos(sample({ transferSyntaxUid: TS.ImplicitLE })).bytes;
    const metaLen = bytes.readUInt32LE(132 + 8);
    const bare = bytes.subarray(132 + 12 + metaLen);
    expect(parseKos(bare).instanceCount).toBe(3);
  });
});

describe('malformed input', () => {
  it('refuses a DICOM object that is not a KOS', () => {
    const ct = writePart10([
      [0x00080016, 'UI', CT],
      [0x00080018, 'UI', '1.2.3.4'],
    ]);
    const e = expectAppError(() => parseKos(ct), 'IMAGING_KOS_NOT_KOS');
    expect(e.userMessage).toMatch(/n'est pas un document de sélection/);
  });

  it('refuses a KOS without evidence and one whose series lists no instance', () => {
    const empty = writePart10([
      [0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.88.59'],
      [0x00080018, 'UI', '1.2.3.4'],
    ]);
    expect(expectAppError(() => parseKos(empty), 'IMAGING_KOS_MALFORMED').detail).toMatch(/0040,A375/);
    const input = sample();
    input.studies[0]!.series[0]!.instances = [];
    expect(expectAppError(() => parseKos(writeKos(input).bytes), 'IMAGING_KOS_MALFORMED').detail).toMatch(/references no instance/);
  });

  it('reports a length that runs past the end of its enclosing item', () => {
    const bytes = Buffer.from(writeKos(sample()).bytes);
    // Corrupt the length of the first (0020,000D) inside the evidence item: make it huge.
    const needle = Buffer.from([0x20, 0x00, 0x0d, 0x00, 0x55, 0x49]);
    const first = bytes.indexOf(needle);
    const inner = bytes.indexOf(needle, first + 1);
    expect(inner).toBeGreaterThan(0);
    bytes.writeUInt16LE(0xfff0, inner + 6);
    const e = expectAppError(() => parseKos(bytes), 'IMAGING_DICOM_MALFORMED');
    expect(e.detail).toMatch(/\(0020,000D\)/);
  });

  it('refuses random bytes, an invalid VR and big endian files with specific errors', () => {
    expectAppError(() => parseKos(Buffer.from('not a dicom file at all, just text')), 'IMAGING_');
    const bad = Buffer.from(writeKos(sample()).bytes);
    const at = bad.indexOf(Buffer.from([0x08, 0x00, 0x60, 0x00, 0x43, 0x53])); // (0008,0060) CS
    bad.write('ZZ', at + 4, 'latin1');
    expect(expectAppError(() => parseKos(bad), 'IMAGING_DICOM_MALFORMED').detail).toMatch(/invalid VR "ZZ"/);
    const be = writePart10([[0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.88.59'], [0x00080018, 'UI', '1.2.3']], { transferSyntaxUid: TS.ExplicitBE });
    expectAppError(() => parseKos(be), 'IMAGING_DICOM_UNSUPPORTED');
  });

  it('stops runaway nesting', () => {
    type El = [number, string, unknown];
    let inner: El[] = [[0x00080100, 'SH', 'X']];
    for (let i = 0; i < 40; i++) inner = [[0x0040a730, 'SQ', [inner]]];
    const body = encodeDataSet(inner as never, true, true);
    const e = expectAppError(() => parseDicom(body), 'IMAGING_DICOM_MALFORMED');
    expect(e.detail).toMatch(/nested deeper/);
  });
});
