import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { DocumentEntry } from '../../../src/main/dmp/ebrim';
import { DmpDocumentSource, isKosEntry, toImagingEntry } from '../../../src/main/imaging/dmp-source';
import { buildExams, kosForReport } from '../../../src/main/imaging/exams';
import { extractFrames, singlePartFrameResponse } from '../../../src/main/imaging/frames';

const coded = (code: string, scheme: string, display = code) => ({ code, scheme, display });

function entry(over: Partial<DocumentEntry>): DocumentEntry {
  return {
    entryUuid: `urn:uuid:${Math.random()}`,
    uniqueId: '1.2.3',
    mimeType: 'text/xml',
    patientId: '279035121518989^^^&1.2.250.1.213.1.4.10&ISO',
    sourcePatientInfo: [],
    authors: [],
    confidentialityCodes: [],
    eventCodes: [],
    referenceIds: [],
    ...over,
  };
}

const refs = (an: string) => [`${an}^^^&1.2.250.1.999.213.2.1&ISO^urn:ihe:iti:xds:2013:accession`, `2.25.1^^^^urn:ihe:iti:xds:2016:studyInstanceUID`];
const kos = entry({
  uniqueId: '2.25.10',
  mimeType: 'application/dicom',
  title: "Examen d'imagerie - TDM",
  typeCode: coded('55113-5', '2.16.840.1.113883.6.1'),
  formatCode: coded('1.2.840.10008.5.1.4.1.1.88.59', '1.2.840.10008.2.6.1'),
  serviceStartTime: '20260115100000',
  eventCodes: [coded('CT', '1.2.840.10008.2.16.4'), coded('67734004', '2.16.840.1.113883.6.96', 'thorax')],
  referenceIds: refs('LPSCT0001'),
});
const report = entry({ uniqueId: '2.25.11', title: 'CR', typeCode: coded('18748-4', '2.16.840.1.113883.6.1'), serviceStartTime: '20260115100000', referenceIds: refs('LPSCT0001') });
const other = entry({ uniqueId: '2.25.12', typeCode: coded('11488-4', '2.16.840.1.113883.6.1') });

describe('imaging exams over the DMP client (TD3.1 metadata → exams)', () => {
  it('recognises KOS by IMG-KOS, the LOINC key-images type or the KOS format, and maps DICOM modality codes', () => {
    expect(isKosEntry(kos)).toBe(true);
    expect(isKosEntry(entry({ typeCode: coded('IMG-KOS', '1.2.250.1.213.1.1.4.12') }))).toBe(true);
    expect(isKosEntry(report)).toBe(false);
    expect(toImagingEntry(other)).toBeUndefined();
    const k = toImagingEntry(kos)!;
    expect(k.typeCode).toBe('IMG-KOS');
    const exams = buildExams([k, toImagingEntry(report)!]);
    expect(exams).toHaveLength(1);
    expect(exams[0]).toMatchObject({ kosUniqueId: '2.25.10', date: '20260115', accessionNumber: 'LPSCT0001', modalities: ['CT'], regions: [{ code: '67734004' }], reports: [{ uniqueId: '2.25.11' }] });
    expect(kosForReport([k, toImagingEntry(report)!], '2.25.11').map((e) => e.uniqueId)).toEqual(['2.25.10']);
    expect(buildExams([k], { modality: 'MR' })).toHaveLength(0);
  });

  it('sends the imaging class, KOS/CR-IMG types and the filters to TD3.1, and fetches unlinked reports by accession number', async () => {
    const calls: unknown[] = [];
    const client = {
      async find(_p: unknown, f: Record<string, unknown>) {
        calls.push(f);
        return { entries: f['accessionNumbers'] ? [report] : [kos, other] } as never;
      },
      async getDocument() {
        return { entry: kos, data: Buffer.from('KOS') } as never;
      },
    };
    const src = new DmpDocumentSource(client, '1.2.250.1.213.1.4.10');
    const entries = await src.findDocuments('279035121518989', undefined, { modality: 'ct', region: '67734004', from: '2026-01-01', to: '2026-01-31' });
    expect(calls[0]).toEqual({
      classCodes: ['31^^1.2.250.1.213.1.1.4.1'],
      typeCodes: ['IMG-KOS^^1.2.250.1.213.1.1.4.12', '55113-5^^2.16.840.1.113883.6.1', '18748-4^^2.16.840.1.113883.6.1'],
      modalities: ['CT'],
      regions: ['67734004'],
      serviceStartFrom: '20260101',
      serviceStartTo: '20260131235959',
    });
    expect(calls[1]).toMatchObject({ accessionNumbers: ['LPSCT0001'] });
    expect(entries.map((e) => e.uniqueId)).toEqual(['2.25.10', '2.25.11']);
    expect((await src.retrieveDocument('279035121518989', '2.25.10')).toString()).toBe('KOS');
  });
});

describe('frames of an instance as the viewer asks for them', () => {
  const samples = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
  it.skipIf(!fs.existsSync(samples))('splits native and encapsulated pixel data into frames (single- and multi-frame)', async () => {
    const ct = extractFrames(fs.readFileSync(path.join(samples, 'CT_small.dcm')));
    expect(ct.frames).toHaveLength(1);
    expect(ct.frames[0]!.length).toBe(128 * 128 * 2);
    const jls = extractFrames(fs.readFileSync(path.join(samples, 'MR_small_jpeg_ls_lossless.dcm')));
    expect(jls.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.80');
    expect(jls.frames[0]!.subarray(0, 2).toString('hex')).toBe('ffd8'); // a JPEG-LS bitstream
    const rle = extractFrames(fs.readFileSync(path.join(samples, 'SC_rgb_rle_2frame.dcm')));
    expect(rle.transferSyntaxUid).toBe('1.2.840.10008.1.2.5');
    expect(rle.frames).toHaveLength(2);
    expect(rle.frames[0]!.readUInt32LE(0)).toBe(3); // each frame starts with its RLE header: 3 segments (RGB)
    const res = singlePartFrameResponse(jls.frames[0]!, jls.transferSyntaxUid);
    expect(res.headers.get('content-type')).toBe('application/octet-stream; transfer-syntax=1.2.840.10008.1.2.4.80');
    expect(Buffer.from(await res.arrayBuffer()).equals(jls.frames[0]!)).toBe(true);
  });
});
