import fs from 'node:fs';
import path from 'node:path';
import { SOP_CLASS, T, TS } from './dicom/constants';
import { newUid, writePart10, type WElement } from './dicom/writer';
import { encodeJ2k, encodeJpegLs, type GrayFrame } from './codecs';

/**
 * A synthetic but plausible chest/abdomen CT: 512×512 slices, 12 bits stored, HU = value − 1024, with body
 * outline, lungs whose size follows the slice position, heart, aorta, spine, ribs, table and scanner noise.
 * Written once as three series of the same study (uncompressed, JPEG-LS lossless, JPEG 2000 lossless) and
 * cached on disk: later sandbox starts reuse the files.
 */

export type CtVariant = 'raw' | 'jpegls' | 'j2k';
export const CT_VARIANTS: Record<CtVariant, { ts: string; label: string; seriesNumber: number }> = {
  raw: { ts: TS.ExplicitLE, label: 'non compressé', seriesNumber: 2 },
  jpegls: { ts: TS.JpegLsLossless, label: 'JPEG-LS sans perte', seriesNumber: 3 },
  j2k: { ts: TS.Jpeg2000Lossless, label: 'JPEG 2000 sans perte', seriesNumber: 4 },
};

export interface CtPhantomPatient {
  id: string;
  issuerOid?: string;
  name: string;
  birthDate?: string;
  sex?: string;
}

export interface CtPhantomManifest {
  version: number;
  slices: number;
  size: number;
  studyInstanceUid: string;
  accessionNumber: string;
  studyDate: string;
  patientId: string;
  series: { variant: CtVariant; seriesInstanceUid: string; transferSyntaxUid: string; instances: { sopInstanceUid: string; file: string; bytes: number }[] }[];
}

const VERSION = 1;

/** Deterministic noise (xorshift32 + sum of uniforms ≈ gaussian). */
function noise(seed: number): () => number {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  return () => (u() + u() + u() - 1.5) * 2;
}

/** One slice as 16-bit little-endian stored values (HU + 1024, 0…4095). `z` is 0 (head side) to 1. */
export function renderSlice(size: number, z: number, seed: number): Uint8Array {
  const out = new Uint16Array(size * size);
  const n = noise(seed);
  const c = size / 2;
  const s = size / 512;
  const bodyA = (190 + 12 * Math.sin(z * Math.PI)) * s;
  const bodyB = (135 + 10 * Math.sin(z * Math.PI)) * s;
  const lungOn = z > 0.12 && z < 0.62;
  const lungK = lungOn ? Math.sin(((z - 0.12) / 0.5) * Math.PI) : 0;
  const lungA = 62 * s * Math.sqrt(lungK);
  const lungB = 90 * s * Math.sqrt(lungK);
  const heartOn = z > 0.3 && z < 0.55;
  const heartR = heartOn ? 55 * s * Math.sin(((z - 0.3) / 0.25) * Math.PI) : 0;
  const liverOn = z > 0.5 && z < 0.85;
  const kidneyOn = z > 0.65 && z < 0.85;
  const tableY = c + bodyB + 18 * s;
  for (let y = 0; y < size; y++) {
    const dy = y - c;
    for (let x = 0; x < size; x++) {
      const dx = x - c;
      let hu = -1000;
      const body = (dx * dx) / (bodyA * bodyA) + (dy * dy) / (bodyB * bodyB);
      if (body <= 1) {
        hu = body > 0.86 ? -90 : 40; // subcutaneous fat then soft tissue
        if (body > 0.72 && body < 0.8 && (Math.floor(Math.atan2(dy, dx) * 6) & 1) === 0 && dy < bodyB * 0.5) hu = 650; // ribs
        if (lungOn) {
          for (const side of [-1, 1]) {
            const lx = dx - side * 78 * s;
            const ly = dy + 5 * s;
            if ((lx * lx) / (lungA * lungA) + (ly * ly) / (lungB * lungB) <= 1) hu = -850 + ((x * 7 + y * 13) % 23 === 0 ? 300 : 0); // vessels
          }
        }
        if (heartOn && (dx + 20 * s) ** 2 + (dy + 10 * s) ** 2 <= heartR * heartR) hu = 45;
        if (liverOn && dx < -10 * s && (dx + 80 * s) ** 2 / (95 * s) ** 2 + (dy + 10 * s) ** 2 / (80 * s) ** 2 <= 1) hu = 60;
        if (kidneyOn) {
          for (const side of [-1, 1]) if ((dx - side * 75 * s) ** 2 / (28 * s) ** 2 + (dy - 55 * s) ** 2 / (40 * s) ** 2 <= 1) hu = 150;
        }
        if ((dx - 18 * s) ** 2 + (dy - 45 * s) ** 2 <= (14 * s) ** 2) hu = 180; // aorta (contrast)
        const sy = dy - 85 * s;
        const spine = dx * dx + sy * sy;
        if (spine <= (24 * s) ** 2) hu = spine <= (15 * s) ** 2 ? 350 : 900; // vertebral body: cortex and cancellous bone
        if (Math.abs(dx) < 6 * s && dy > 105 * s && dy < 125 * s) hu = 800; // spinous process
      } else if (Math.abs(y - tableY) < 4 * s && Math.abs(dx) < 210 * s) {
        hu = 200; // table
      }
      const v = Math.round(hu + 1024 + n() * 12);
      out[y * size + x] = v < 0 ? 0 : v > 4095 ? 4095 : v;
    }
  }
  return new Uint8Array(out.buffer);
}

function readManifest(dir: string): CtPhantomManifest | undefined {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as CtPhantomManifest;
    if (m.version !== VERSION) return undefined;
    for (const s of m.series) for (const i of s.instances) if (!fs.existsSync(path.join(dir, i.file))) return undefined;
    return m;
  } catch {
    return undefined;
  }
}

export interface CtPhantomOptions {
  dir: string;
  patient: CtPhantomPatient;
  slices?: number;
  size?: number;
  variants?: CtVariant[];
  accessionNumber?: string;
  studyDate?: string;
  onProgress?: (message: string) => void;
}

/** Returns the cached series when they exist for this patient and size, else generates them. */
export async function ensureCtPhantom(opts: CtPhantomOptions): Promise<CtPhantomManifest> {
  const slices = opts.slices ?? 300;
  const size = opts.size ?? 512;
  const variants = opts.variants ?? (['raw', 'jpegls', 'j2k'] as CtVariant[]);
  const cached = readManifest(opts.dir);
  if (
    cached &&
    cached.slices === slices &&
    cached.size === size &&
    cached.patientId === opts.patient.id &&
    variants.every((v) => cached.series.some((s) => s.variant === v))
  ) {
    return cached;
  }
  fs.rmSync(opts.dir, { recursive: true, force: true });
  fs.mkdirSync(opts.dir, { recursive: true });
  const studyInstanceUid = newUid();
  const frameOfReference = newUid();
  const accessionNumber = opts.accessionNumber ?? 'LPSCT0001';
  const studyDate = opts.studyDate ?? '20260115';
  const series = variants.map((variant) => ({ variant, seriesInstanceUid: newUid(), transferSyntaxUid: CT_VARIANTS[variant].ts, instances: [] as CtPhantomManifest['series'][number]['instances'] }));
  for (const s of series) fs.mkdirSync(path.join(opts.dir, s.variant));
  const thickness = 1.25;
  const p = opts.patient;
  for (let i = 0; i < slices; i++) {
    const pixels = renderSlice(size, i / slices, 0x9e3779b9 ^ (i * 2654435761));
    const frame: GrayFrame = { width: size, height: size, bitsStored: 12, signed: false, pixels };
    for (const s of series) {
      const sopInstanceUid = newUid();
      const zPos = (-(i * thickness)).toFixed(2);
      const elements: WElement[] = [
        [T.SpecificCharacterSet, 'CS', 'ISO_IR 192'],
        [0x00080008, 'CS', ['ORIGINAL', 'PRIMARY', 'AXIAL']],
        [T.SopClassUid, 'UI', SOP_CLASS.CtImage],
        [T.SopInstanceUid, 'UI', sopInstanceUid],
        [T.StudyDate, 'DA', studyDate],
        [0x00080021, 'DA', studyDate],
        [T.StudyTime, 'TM', '101500'],
        [T.AccessionNumber, 'SH', accessionNumber],
        [T.Modality, 'CS', 'CT'],
        [0x00080070, 'LO', 'LPS synthetic phantom'],
        [0x00080080, 'LO', 'Centre d’imagerie du bac à sable'],
        [T.StudyDescription, 'LO', 'TDM thoraco-abdominale (fantôme synthétique)'],
        [T.SeriesDescription, 'LO', `Thorax-abdomen 1,25 mm — ${CT_VARIANTS[s.variant].label}`],
        [T.PatientName, 'PN', p.name],
        [T.PatientId, 'LO', p.id],
        [T.PatientBirthDate, 'DA', p.birthDate ?? ''],
        [T.PatientSex, 'CS', p.sex ?? ''],
        [0x00180050, 'DS', String(thickness)],
        [0x00180060, 'DS', '120'],
        [T.StudyInstanceUid, 'UI', studyInstanceUid],
        [T.SeriesInstanceUid, 'UI', s.seriesInstanceUid],
        [T.StudyId, 'SH', accessionNumber.slice(0, 16)],
        [0x00200011, 'IS', String(CT_VARIANTS[s.variant].seriesNumber)],
        [0x00200013, 'IS', String(i + 1)],
        [0x00200032, 'DS', ['-250', '-250', zPos]],
        [0x00200037, 'DS', ['1', '0', '0', '0', '1', '0']],
        [0x00200052, 'UI', frameOfReference],
        [0x00201041, 'DS', zPos],
        [0x00280002, 'US', 1],
        [0x00280004, 'CS', 'MONOCHROME2'],
        [0x00280010, 'US', size],
        [0x00280011, 'US', size],
        [0x00280030, 'DS', [String(500 / size), String(500 / size)]],
        [0x00280100, 'US', 16],
        [0x00280101, 'US', 12],
        [0x00280102, 'US', 11],
        [0x00280103, 'US', 0],
        [0x00281050, 'DS', '40'],
        [0x00281051, 'DS', '400'],
        [0x00281052, 'DS', '-1024'],
        [0x00281053, 'DS', '1'],
        [0x00282110, 'CS', '00'],
      ];
      if (p.issuerOid) elements.push([0x00100024, 'SQ', [[[0x00400032, 'UT', p.issuerOid], [0x00400033, 'CS', 'ISO']]]]);
      if (s.variant === 'raw') elements.push([T.PixelData, 'OW', Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength)]);
      else elements.push([T.PixelData, 'OB', { fragments: [s.variant === 'jpegls' ? await encodeJpegLs(frame) : await encodeJ2k(frame)] }]);
      const bytes = writePart10(elements, { transferSyntaxUid: s.transferSyntaxUid });
      const file = path.join(s.variant, `${String(i + 1).padStart(4, '0')}.dcm`);
      fs.writeFileSync(path.join(opts.dir, file), bytes);
      s.instances.push({ sopInstanceUid, file, bytes: bytes.length });
    }
    if ((i + 1) % 50 === 0) opts.onProgress?.(`Scanner synthétique : ${i + 1}/${slices} coupes générées`);
  }
  const manifest: CtPhantomManifest = { version: VERSION, slices, size, studyInstanceUid, accessionNumber, studyDate, patientId: p.id, series };
  fs.writeFileSync(path.join(opts.dir, 'manifest.json'), JSON.stringify(manifest));
  return manifest;
}
