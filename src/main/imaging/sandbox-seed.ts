import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { T, TS } from './dicom/constants';
import { parseDicom } from './dicom/parser';
import { newUid, rewritePart10 } from './dicom/writer';
import { ensureCtPhantom, CT_VARIANTS } from './ct-phantom';
import { INS_NIR_OID, writeKos } from './kos-writer';
import { DICOMWEB_ROOT } from './orthanc';

/**
 * The sandbox's imaging data set, prepared without any server running: real sample images (Debian
 * `python3-pydicom` test files) given new UIDs and the test patient's identity, a generated 300-slice CT
 * in three transfer syntaxes, and one KOS per study whose Retrieve URLs point at the sandbox PACS.
 *
 * The DMP sandbox publishes the KOS (with matching CR-IMG reports) through `sandboxImagingSeed()`;
 * the PACS service loads the images. The PACS port is reserved here and kept across runs so that KOS
 * already published stay valid; when it must change, the KOS are rewritten with new UIDs (`generation`).
 */

export const PYDICOM_TEST_FILES = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
const SEED_VERSION = 1;

export interface SandboxPatient {
  ins: string;
  insOid: string;
  family: string;
  given: string;
  birthDate: string;
  sex: 'M' | 'F' | 'O';
}

export const DEFAULT_SANDBOX_PATIENT: SandboxPatient = {
  ins: '279035121518989',
  insOid: INS_NIR_OID,
  family: 'DUPONT',
  given: 'MARIE',
  birthDate: '19790315',
  sex: 'F',
};

export interface SeedInstance {
  sopClassUid: string;
  sopInstanceUid: string;
  /** Absolute path of the file to load into the PACS. */
  file: string;
  /** Orthanc must transcode it to explicit little endian (big-endian originals). */
  transcode?: string;
}

export interface SeedSeries {
  seriesInstanceUid: string;
  modality: string;
  description: string;
  transferSyntaxUid: string;
  instances: SeedInstance[];
}

export interface SeedStudy {
  key: string;
  /** French title, for the DMP document title and the UI. */
  title: string;
  studyInstanceUid: string;
  accessionNumber: string;
  /** Issuer of the accession number (the sandbox imaging centre), for the XDS referenceIdList. */
  accessionIssuerOid: string;
  studyDate: string;
  modalities: string[];
  /** Anatomic region (SNOMED CT, value set JDV_RegionAnatomique_CISIS). */
  region: { code: string; codeSystem: string; displayName: string };
  series: SeedSeries[];
  kosFile: string;
  kosSopInstanceUid: string;
  instanceCount: number;
}

export interface SandboxImagingSeed {
  version: number;
  generation: number;
  /** DICOMweb root of the sandbox PACS (the auth proxy), e.g. http://127.0.0.1:PORT/dicom-web */
  dicomwebUrl: string;
  proxyPort: number;
  patient: SandboxPatient;
  studies: SeedStudy[];
}

/** OID of the sandbox imaging centre's accession numbers (a test arc). */
export const SANDBOX_ACCESSION_ISSUER_OID = '1.2.250.1.999.213.2.1';
const SNOMED = '2.16.840.1.113883.6.96';

interface SampleStudyDef {
  key: string;
  title: string;
  accessionNumber: string;
  studyDate: string;
  region: SeedStudy['region'];
  files: { name: string; description: string }[];
}

const SAMPLE_STUDIES: SampleStudyDef[] = [
  {
    key: 'mr-brain',
    title: 'IRM cérébrale',
    accessionNumber: 'LPSMR0001',
    studyDate: '20250603',
    region: { code: '774007', codeSystem: SNOMED, displayName: 'tête et cou' },
    files: [
      { name: 'MR_small.dcm', description: 'T1 — non compressé' },
      { name: 'MR_small_implicit.dcm', description: 'T1 — VR implicite' },
      { name: 'MR_small_jpeg_ls_lossless.dcm', description: 'T1 — JPEG-LS' },
      { name: 'MR_small_jp2klossless.dcm', description: 'T1 — JPEG 2000' },
      { name: 'MR_small_RLE.dcm', description: 'T1 — RLE' },
    ],
  },
  {
    key: 'ct-samples',
    title: 'TDM (images de référence)',
    accessionNumber: 'LPSCT0002',
    studyDate: '20240920',
    region: { code: '63337009', codeSystem: SNOMED, displayName: 'segment abdominopelvien du tronc' },
    files: [
      { name: 'CT_small.dcm', description: 'Coupe — non compressée' },
      { name: '693_J2KI.dcm', description: 'Coupe — JPEG 2000' },
    ],
  },
  {
    key: 'nm',
    title: 'Scintigraphie',
    accessionNumber: 'LPSNM0001',
    studyDate: '20231105',
    region: { code: '38266002', codeSystem: SNOMED, displayName: 'corps entier' },
    files: [
      { name: 'JPGExtended.dcm', description: 'Balayage — JPEG étendu' },
      { name: 'JPEG2000.dcm', description: 'Balayage — JPEG 2000' },
    ],
  },
  {
    key: 'us',
    title: 'Échographie',
    accessionNumber: 'LPSUS0001',
    studyDate: '20230412',
    region: { code: '63337009', codeSystem: SNOMED, displayName: 'segment abdominopelvien du tronc' },
    files: [{ name: 'ExplVR_BigEnd.dcm', description: 'Échographie' }],
  },
  {
    key: 'captures',
    title: 'Captures couleur',
    accessionNumber: 'LPSOT0001',
    studyDate: '20221201',
    region: { code: '38266002', codeSystem: SNOMED, displayName: 'corps entier' },
    files: [
      { name: 'SC_rgb_jpeg_dcmtk.dcm', description: 'Couleur — JPEG baseline' },
      { name: 'SC_rgb_rle.dcm', description: 'Couleur — RLE' },
      { name: 'SC_rgb_jpeg_gdcm.dcm', description: 'Couleur — JPEG sans perte' },
    ],
  },
];

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

async function anyFreePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function dicomName(p: SandboxPatient): string {
  return `${p.family}^${p.given}`;
}

export function pacsDir(sandboxDir: string): string {
  return path.join(sandboxDir, 'pacs');
}

function readSeed(file: string): SandboxImagingSeed | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as SandboxImagingSeed;
    if (s.version !== SEED_VERSION) return undefined;
    for (const st of s.studies) {
      if (!fs.existsSync(st.kosFile)) return undefined;
      for (const se of st.series) for (const i of se.instances) if (!fs.existsSync(i.file)) return undefined;
    }
    return s;
  } catch {
    return undefined;
  }
}

export interface PrepareOptions {
  sandboxDir: string;
  patient?: SandboxPatient;
  /** Slices of the generated CT (300 in the sandbox; tests use fewer). */
  ctSlices?: number;
  /** Keep this port if it is free (default: the one used last time). */
  onProgress?: (message: string) => void;
  /** Sample files folder (python3-pydicom). */
  samplesDir?: string;
}

/**
 * Prepares (or reuses) the imaging seed: images on disk, KOS on disk, the PACS port reserved.
 * Idempotent and cached under `<sandboxDir>/pacs`; safe to call from the DMP service before the PACS starts.
 */
export async function prepareSandboxImaging(opts: PrepareOptions): Promise<SandboxImagingSeed> {
  const dir = pacsDir(opts.sandboxDir);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const seedFile = path.join(dir, 'seed.json');
  const patient = opts.patient ?? DEFAULT_SANDBOX_PATIENT;
  const ctSlices = opts.ctSlices ?? 300;
  const previous = readSeed(seedFile);

  let proxyPort = previous?.proxyPort ?? 0;
  if (!proxyPort || !(await portFree(proxyPort))) proxyPort = await anyFreePort();
  const dicomwebUrl = `http://127.0.0.1:${proxyPort}${DICOMWEB_ROOT}`;
  const samePatient = previous?.patient.ins === patient.ins && previous.patient.family === patient.family;
  const ctOk = previous?.studies.find((s) => s.key === 'ct-phantom')?.series[0]?.instances.length === ctSlices;
  if (previous && previous.dicomwebUrl === dicomwebUrl && samePatient && ctOk) return previous;

  // Images: the CT phantom is cached separately (slow to make); the samples are cheap to rewrite.
  const ct = await ensureCtPhantom({
    dir: path.join(dir, 'ct-phantom'),
    slices: ctSlices,
    patient: { id: patient.ins, issuerOid: patient.insOid, name: dicomName(patient), birthDate: patient.birthDate, sex: patient.sex },
    onProgress: opts.onProgress,
  });
  const studies: Omit<SeedStudy, 'kosFile' | 'kosSopInstanceUid'>[] = [
    {
      key: 'ct-phantom',
      title: 'TDM thoraco-abdominale',
      studyInstanceUid: ct.studyInstanceUid,
      accessionNumber: ct.accessionNumber,
      accessionIssuerOid: SANDBOX_ACCESSION_ISSUER_OID,
      studyDate: ct.studyDate,
      modalities: ['CT'],
      region: { code: '67734004', codeSystem: SNOMED, displayName: 'segment thoracique du tronc' },
      series: ct.series.map((s) => ({
        seriesInstanceUid: s.seriesInstanceUid,
        modality: 'CT',
        description: `Thorax-abdomen 1,25 mm — ${CT_VARIANTS[s.variant].label}`,
        transferSyntaxUid: s.transferSyntaxUid,
        instances: s.instances.map((i) => ({ sopClassUid: '1.2.840.10008.5.1.4.1.1.2', sopInstanceUid: i.sopInstanceUid, file: path.join(dir, 'ct-phantom', i.file) })),
      })),
      instanceCount: ct.series.reduce((n, s) => n + s.instances.length, 0),
    },
  ];

  const samplesDir = opts.samplesDir ?? PYDICOM_TEST_FILES;
  const samplesOut = path.join(dir, 'samples');
  fs.rmSync(samplesOut, { recursive: true, force: true });
  for (const def of SAMPLE_STUDIES) {
    const studyUid = newUid();
    const series: SeedSeries[] = [];
    def.files.forEach((f, idx) => {
      const src = path.join(samplesDir, f.name);
      if (!fs.existsSync(src)) return;
      const original = fs.readFileSync(src);
      const seriesUid = newUid();
      const sopInstanceUid = newUid();
      let ts: string;
      let sopClassUid: string;
      let modality: string;
      let file: string;
      let transcode: string | undefined;
      const out = path.join(samplesOut, def.key);
      fs.mkdirSync(out, { recursive: true });
      try {
        const parsed = parseDicom(original);
        ts = parsed.transferSyntaxUid;
        sopClassUid = parsed.dataset.string(T.SopClassUid)!;
        modality = parsed.dataset.string(T.Modality) ?? 'OT';
        const rewritten = rewritePart10(original, [
          [T.SopInstanceUid, 'UI', sopInstanceUid],
          [T.StudyDate, 'DA', def.studyDate],
          [T.AccessionNumber, 'SH', def.accessionNumber],
          [T.StudyDescription, 'LO', def.title],
          [T.SeriesDescription, 'LO', f.description],
          [T.PatientName, 'PN', dicomName(patient)],
          [T.PatientId, 'LO', patient.ins],
          [T.PatientBirthDate, 'DA', patient.birthDate],
          [T.PatientSex, 'CS', patient.sex],
          [0x00100024, 'SQ', [[[0x00400032, 'UT', patient.insOid], [0x00400033, 'CS', 'ISO']]]],
          [T.StudyInstanceUid, 'UI', studyUid],
          [T.SeriesInstanceUid, 'UI', seriesUid],
          [0x00200011, 'IS', String(idx + 1)],
          [T.StudyId, 'SH', def.accessionNumber],
          // Orthanc keys patients on PatientID only; the original character set may not hold our names.
          [T.SpecificCharacterSet, 'CS', 'ISO_IR 192'],
        ]);
        file = path.join(out, `${idx + 1}.dcm`);
        fs.writeFileSync(file, rewritten);
      } catch {
        // Big endian (retired) originals: Orthanc rewrites and transcodes them at load time.
        ts = TS.ExplicitLE;
        transcode = TS.ExplicitLE;
        sopClassUid = '1.2.840.10008.5.1.4.1.1.6.1';
        modality = 'US';
        file = src;
      }
      series.push({
        seriesInstanceUid: seriesUid,
        modality,
        description: f.description,
        transferSyntaxUid: ts,
        instances: [{ sopClassUid, sopInstanceUid, file, ...(transcode ? { transcode } : {}) }],
      });
    });
    if (series.length === 0) continue;
    studies.push({
      key: def.key,
      title: def.title,
      studyInstanceUid: studyUid,
      accessionNumber: def.accessionNumber,
      accessionIssuerOid: SANDBOX_ACCESSION_ISSUER_OID,
      studyDate: def.studyDate,
      modalities: [...new Set(series.map((s) => s.modality))],
      region: def.region,
      series,
      instanceCount: series.length,
    });
  }

  // One KOS per study, Retrieve URL per series pointing at the sandbox PACS.
  const kosDir = path.join(dir, 'kos');
  fs.rmSync(kosDir, { recursive: true, force: true });
  fs.mkdirSync(kosDir, { recursive: true });
  const withKos: SeedStudy[] = studies.map((st) => {
    const { bytes, sopInstanceUid } = writeKos({
      patient: { id: patient.ins, issuerOid: patient.insOid, name: dicomName(patient), birthDate: patient.birthDate, sex: patient.sex },
      accessionNumber: st.accessionNumber,
      studyDate: st.studyDate,
      studyDescription: st.title,
      institution: 'Centre d’imagerie du bac à sable',
      studies: [
        {
          studyInstanceUid: st.studyInstanceUid,
          series: st.series.map((se) => ({
            seriesInstanceUid: se.seriesInstanceUid,
            retrieveUrl: `${dicomwebUrl}/studies/${st.studyInstanceUid}/series/${se.seriesInstanceUid}`,
            retrieveAeTitle: 'LPS_SANDBOX',
            instances: se.instances.map((i) => ({ sopClassUid: i.sopClassUid, sopInstanceUid: i.sopInstanceUid })),
          })),
        },
      ],
    });
    const kosFile = path.join(kosDir, `${st.key}.dcm`);
    fs.writeFileSync(kosFile, bytes);
    return { ...st, kosFile, kosSopInstanceUid: sopInstanceUid };
  });

  const seed: SandboxImagingSeed = {
    version: SEED_VERSION,
    generation: (previous?.generation ?? 0) + 1,
    dicomwebUrl,
    proxyPort,
    patient,
    studies: withKos,
  };
  fs.writeFileSync(seedFile, JSON.stringify(seed, null, 1), { mode: 0o600 });
  return seed;
}

/** The seed as last prepared (undefined before the first `prepareSandboxImaging`). */
export function readSandboxImagingSeed(sandboxDir: string): SandboxImagingSeed | undefined {
  return readSeed(path.join(pacsDir(sandboxDir), 'seed.json'));
}

/**
 * For the DMP sandbox: the KOS files and study metadata to publish for the test patient (prepares them if
 * needed). Reads the patient from the profile's `patients` section when it has the INS.
 */
export async function sandboxImagingSeed(ctx: { sandboxDir: string; profile?: Record<string, unknown>; log?: (m: string) => void }): Promise<SandboxImagingSeed> {
  return prepareSandboxImaging({ sandboxDir: ctx.sandboxDir, patient: patientFromProfile(ctx.profile), onProgress: ctx.log });
}

/** Reads the test patient from a profile `patients` section written by another service, if any. */
export function patientFromProfile(profile: Record<string, unknown> | undefined): SandboxPatient {
  const list = profile?.['patients'];
  if (!Array.isArray(list)) return DEFAULT_SANDBOX_PATIENT;
  const p = list.find((x) => x && typeof x === 'object' && Object.values(x as object).includes(DEFAULT_SANDBOX_PATIENT.ins)) as Record<string, unknown> | undefined;
  if (!p) return DEFAULT_SANDBOX_PATIENT;
  const str = (k: string) => (typeof p[k] === 'string' ? (p[k] as string) : undefined);
  const sexRaw = str('sex') ?? str('gender') ?? DEFAULT_SANDBOX_PATIENT.sex;
  return {
    ins: DEFAULT_SANDBOX_PATIENT.ins,
    insOid: str('insOid') ?? DEFAULT_SANDBOX_PATIENT.insOid,
    family: (str('family') ?? str('familyName') ?? DEFAULT_SANDBOX_PATIENT.family).toUpperCase(),
    given: (str('given') ?? str('givenName') ?? DEFAULT_SANDBOX_PATIENT.given).toUpperCase(),
    birthDate: (str('birthDate') ?? DEFAULT_SANDBOX_PATIENT.birthDate).replace(/-/g, ''),
    sex: sexRaw.startsWith('M') ? 'M' : sexRaw.startsWith('F') ? 'F' : 'O',
  };
}
