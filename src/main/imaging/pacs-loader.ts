import fs from 'node:fs';
import path from 'node:path';
import type { OrthancRest } from './orthanc';
import type { SandboxImagingSeed } from './sandbox-seed';

/** Loads the seed's images into Orthanc (skipped when this storage already holds this generation). */
export async function loadSeedIntoOrthanc(
  orthanc: OrthancRest,
  seed: SandboxImagingSeed,
  storageDir: string,
  onProgress?: (m: string) => void,
): Promise<{ uploaded: number; skipped: boolean }> {
  const marker = path.join(storageDir, 'lps-loaded.json');
  const key = JSON.stringify(seed.studies.map((s) => [s.studyInstanceUid, s.instanceCount]));
  const expected = seed.studies.reduce((n, s) => n + s.instanceCount, 0);
  try {
    const m = JSON.parse(fs.readFileSync(marker, 'utf8')) as { key: string };
    const stats = await orthanc.statistics();
    if (m.key === key && stats.CountInstances === expected) return { uploaded: 0, skipped: true };
  } catch {
    /* not loaded yet */
  }
  // Start from an empty archive: stale studies from an older seed would confuse searches.
  const studies = await orthanc.json<string[]>('GET', '/studies');
  for (const id of studies) await orthanc.delete(`/studies/${id}`);

  const jobs = seed.studies.flatMap((st) => st.series.flatMap((se) => se.instances.map((i) => ({ st, se, i }))));
  let done = 0;
  let next = 0;
  const worker = async () => {
    for (;;) {
      const job = jobs[next++];
      if (!job) return;
      const bytes = fs.readFileSync(job.i.file);
      const up = await orthanc.upload(bytes);
      if (job.i.transcode) {
        const p = seed.patient;
        const modified = await orthanc.modifiedFile(up.ID, {
          Transcode: job.i.transcode,
          Replace: {
            PatientID: p.ins,
            PatientName: `${p.family}^${p.given}`,
            PatientBirthDate: p.birthDate,
            PatientSex: p.sex,
            StudyInstanceUID: job.st.studyInstanceUid,
            SeriesInstanceUID: job.se.seriesInstanceUid,
            SOPInstanceUID: job.i.sopInstanceUid,
            AccessionNumber: job.st.accessionNumber,
            StudyDate: job.st.studyDate,
            StudyDescription: job.st.title,
            SeriesDescription: job.se.description,
            SpecificCharacterSet: 'ISO_IR 192',
          },
        });
        await orthanc.delete(`/instances/${up.ID}`);
        await orthanc.upload(modified);
      }
      done++;
      if (done % 150 === 0) onProgress?.(`PACS : ${done}/${jobs.length} images chargées`);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const stats = await orthanc.statistics();
  if (stats.CountInstances !== expected) throw new Error(`PACS holds ${stats.CountInstances} instances after loading, expected ${expected}`);
  fs.writeFileSync(marker, JSON.stringify({ key, at: new Date().toISOString() }));
  return { uploaded: jobs.length, skipped: false };
}
