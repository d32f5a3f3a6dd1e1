import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../core/errors';
import { T, TS } from './dicom/constants';
import { hasPart10Preamble, parseDicom } from './dicom/parser';
import { encodeDataSet } from './dicom/writer';
import { DicomwebClient, kosTargets } from './dicomweb-client';
import type { KosManifest } from './kos';

/** Makes sure bytes are a Part 10 file (some servers send bare datasets): adds preamble and meta if needed. */
export function ensurePart10(bytes: Buffer, transferSyntaxUid: string = TS.ExplicitLE): Buffer {
  if (hasPart10Preamble(bytes)) return bytes;
  const ds = parseDicom(bytes).dataset;
  const meta = encodeDataSet(
    [
      [0x00020001, 'OB', Buffer.from([0, 1])],
      [T.MediaStorageSopClassUid, 'UI', ds.string(T.SopClassUid) ?? ''],
      [T.MediaStorageSopInstanceUid, 'UI', ds.string(T.SopInstanceUid) ?? ''],
      [T.TransferSyntaxUid, 'UI', transferSyntaxUid],
    ],
    true,
  );
  const head = Buffer.alloc(132);
  head.write('DICM', 128, 'latin1');
  return Buffer.concat([head, encodeDataSet([[T.FileMetaGroupLength, 'UL', meta.length]], true), meta, bytes]);
}

export interface FetchProgress {
  done: number;
  total: number;
  bytes: number;
  sopInstanceUid: string;
}

export interface FetchResult {
  files: { sopInstanceUid: string; file: string; bytes: number }[];
  missing: string[];
  unreachableSeries: string[];
}

/**
 * Downloads every instance a KOS references as Part 10 files under `outDir/<study>/<series>/<sop>.dcm`.
 * Files are written atomically; an instance already present is not fetched again (resumable).
 */
export async function fetchKosInstances(
  client: DicomwebClient,
  kos: KosManifest,
  outDir: string,
  opts: { signal?: AbortSignal; onProgress?: (p: FetchProgress) => void; dicomwebRootOverride?: string } = {},
): Promise<FetchResult> {
  const { targets, unreachable } = kosTargets(kos, { dicomwebRootOverride: opts.dicomwebRootOverride });
  if (targets.length === 0) {
    throw new AppError(
      'IMAGING_NO_RETRIEVE_LOCATION',
      "Le document d'imagerie n'indique pas d'adresse DICOMweb pour récupérer les images.",
      `retrieve hints: ${unreachable.map((s) => `${s.retrieve.retrieveAeTitle ?? ''}/${s.retrieve.retrieveLocationUid ?? ''}`).join(', ')}`,
    );
  }
  const total = targets.reduce((n, t) => n + t.series.instances.length, 0);
  const files: FetchResult['files'] = [];
  const missing: string[] = [];
  let done = 0;
  let bytes = 0;
  for (const { study, series, target } of targets) {
    const dir = path.join(outDir, study.studyInstanceUid, series.seriesInstanceUid);
    fs.mkdirSync(dir, { recursive: true });
    const wanted = new Set(series.instances.map((i) => i.sopInstanceUid));
    const fileOf = (sop: string) => path.join(dir, `${sop}.dcm`);
    for (const sop of [...wanted]) {
      if (fs.existsSync(fileOf(sop))) {
        wanted.delete(sop);
        const size = fs.statSync(fileOf(sop)).size;
        files.push({ sopInstanceUid: sop, file: fileOf(sop), bytes: size });
        done++;
        opts.onProgress?.({ done, total, bytes, sopInstanceUid: sop });
      }
    }
    if (wanted.size === 0) continue;
    const seen = new Set<string>();
    for await (const inst of client.retrieveSeries(target, { only: wanted, signal: opts.signal })) {
      if (seen.has(inst.sopInstanceUid)) continue;
      seen.add(inst.sopInstanceUid);
      const part10 = ensurePart10(inst.bytes);
      const file = fileOf(inst.sopInstanceUid);
      fs.writeFileSync(`${file}.part`, part10);
      fs.renameSync(`${file}.part`, file);
      files.push({ sopInstanceUid: inst.sopInstanceUid, file, bytes: part10.length });
      done++;
      bytes += part10.length;
      opts.onProgress?.({ done, total, bytes, sopInstanceUid: inst.sopInstanceUid });
    }
    for (const sop of wanted) if (!seen.has(sop)) missing.push(sop);
  }
  return { files, missing, unreachableSeries: unreachable.map((s) => s.seriesInstanceUid) };
}
