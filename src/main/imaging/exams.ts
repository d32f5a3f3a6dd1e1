import fs from 'node:fs';
import { AppError } from '../core/errors';
import { parseKos, type KosManifest } from './kos';
import { readSandboxImagingSeed, SANDBOX_ACCESSION_ISSUER_OID } from './sandbox-seed';

/**
 * Imaging exams of a patient, as found in the DMP (seed 002, flux 5–8): KOS entries (typeCode IMG-KOS,
 * mimeType application/dicom) and CR-IMG reports (LOINC 18748-4), linked both ways by the accession number
 * carried in the XDS referenceIdList.
 */

export const KOS_TYPE_CODE = { code: 'IMG-KOS', scheme: '1.2.250.1.213.1.1.4.12' };
export const CR_IMG_TYPE_CODE = { code: '18748-4', scheme: '2.16.840.1.113883.6.1' };
export const MODALITY_SCHEME = '1.2.250.1.213.1.1.5.618';
export const ACCESSION_REFERENCE_TYPE = 'urn:ihe:iti:xds:2013:accession';
export const STUDY_UID_REFERENCE_TYPE = 'urn:ihe:iti:xds:2016:studyInstanceUID';

/** One DMP document entry, reduced to what exam listing needs (the DMP client maps its metadata to this). */
export interface ImagingDocumentEntry {
  uniqueId: string;
  typeCode: string;
  title?: string;
  mimeType?: string;
  /** Acquisition date (serviceStartTime), YYYYMMDD[hhmmss]. */
  serviceStartTime?: string;
  creationTime?: string;
  eventCodes: { code: string; scheme: string; displayName?: string }[];
  /** Raw CX values of urn:ihe:iti:xds:2013:referenceIdList. */
  referenceIds: string[];
}

/** What exam listing needs from the DMP: TD3.1 search and TD3.2 retrieval. */
export interface ImagingDocumentSource {
  readonly kind: 'dmp' | 'sandbox-seed';
  findDocuments(ins: string, signal?: AbortSignal): Promise<ImagingDocumentEntry[]>;
  retrieveDocument(ins: string, uniqueId: string, signal?: AbortSignal): Promise<Buffer>;
}

export interface ImagingExam {
  kosUniqueId: string;
  title?: string;
  date?: string;
  accessionNumber?: string;
  studyInstanceUids: string[];
  modalities: string[];
  regions: { code: string; displayName?: string }[];
  /** CR-IMG reports with the same accession number. */
  reports: { uniqueId: string; title?: string; date?: string }[];
}

export interface ExamFilters {
  from?: string;
  to?: string;
  modality?: string;
  /** SNOMED CT code of the anatomic region. */
  region?: string;
}

/** Parses a CX reference id: `value^^^&oid&ISO^type` → {value, oid, type}. */
export function parseReferenceId(cx: string): { value: string; oid?: string; type?: string } {
  const parts = cx.split('^');
  const assigning = parts[3] ?? '';
  const oid = assigning.split('&')[1];
  return { value: parts[0] ?? '', ...(oid ? { oid } : {}), ...(parts[4] ? { type: parts[4] } : {}) };
}

function referenceOf(e: ImagingDocumentEntry, type: string): string[] {
  return e.referenceIds.map(parseReferenceId).filter((r) => r.type === type).map((r) => (r.oid ? `${r.value}@${r.oid}` : r.value));
}

function ymd(s?: string): string | undefined {
  return s ? s.replace(/[^0-9]/g, '').slice(0, 8) : undefined;
}

/** Groups KOS and reports into exams, linked by accession number (value + issuer). */
export function buildExams(entries: ImagingDocumentEntry[], filters: ExamFilters = {}): ImagingExam[] {
  const reportsByAccession = new Map<string, ImagingDocumentEntry[]>();
  for (const e of entries.filter((x) => x.typeCode === CR_IMG_TYPE_CODE.code)) {
    for (const an of referenceOf(e, ACCESSION_REFERENCE_TYPE)) reportsByAccession.set(an, [...(reportsByAccession.get(an) ?? []), e]);
  }
  const exams: ImagingExam[] = [];
  for (const k of entries.filter((x) => x.typeCode === KOS_TYPE_CODE.code)) {
    const accession = referenceOf(k, ACCESSION_REFERENCE_TYPE)[0];
    const date = ymd(k.serviceStartTime ?? k.creationTime);
    const modalities = k.eventCodes.filter((c) => c.scheme === MODALITY_SCHEME).map((c) => c.code);
    const regions = k.eventCodes.filter((c) => c.scheme !== MODALITY_SCHEME).map((c) => ({ code: c.code, ...(c.displayName ? { displayName: c.displayName } : {}) }));
    if (filters.from && date && date < ymd(filters.from)!) continue;
    if (filters.to && date && date > ymd(filters.to)!) continue;
    if (filters.modality && !modalities.includes(filters.modality.toUpperCase())) continue;
    if (filters.region && !regions.some((r) => r.code === filters.region)) continue;
    const reports = accession ? (reportsByAccession.get(accession) ?? []) : [];
    exams.push({
      kosUniqueId: k.uniqueId,
      ...(k.title ? { title: k.title } : {}),
      ...(date ? { date } : {}),
      ...(accession ? { accessionNumber: accession.split('@')[0]! } : {}),
      studyInstanceUids: referenceOf(k, STUDY_UID_REFERENCE_TYPE).map((s) => s.split('@')[0]!),
      modalities,
      regions,
      reports: reports.map((r) => ({ uniqueId: r.uniqueId, ...(r.title ? { title: r.title } : {}), ...(ymd(r.serviceStartTime ?? r.creationTime) ? { date: ymd(r.serviceStartTime ?? r.creationTime)! } : {}) })),
    });
  }
  return exams.sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
}

/** From a CR-IMG report's entry, its KOS (and back), through the accession number. */
export function kosForReport(entries: ImagingDocumentEntry[], reportUniqueId: string): ImagingDocumentEntry[] {
  const report = entries.find((e) => e.uniqueId === reportUniqueId);
  if (!report) return [];
  const ans = new Set(referenceOf(report, ACCESSION_REFERENCE_TYPE));
  return entries.filter((e) => e.typeCode === KOS_TYPE_CODE.code && referenceOf(e, ACCESSION_REFERENCE_TYPE).some((a) => ans.has(a)));
}

/** Retrieves and parses one KOS of the patient (TD3.2), checking it is about that patient. */
export async function retrieveKos(source: ImagingDocumentSource, ins: string, uniqueId: string, signal?: AbortSignal): Promise<KosManifest> {
  const bytes = await source.retrieveDocument(ins, uniqueId, signal);
  const kos = parseKos(bytes);
  if (kos.patient.id && kos.patient.id !== ins) {
    throw new AppError('IMAGING_KOS_PATIENT_MISMATCH', "Le document d'imagerie ne concerne pas ce patient : il n'est pas ouvert.", `KOS PatientID differs from the requested INS`);
  }
  return kos;
}

/**
 * A document source over the sandbox imaging seed (the KOS files the sandbox DMP publishes), used when
 * no DMP client is available: the same entries the DMP would return for the test patient.
 */
export class SeedDocumentSource implements ImagingDocumentSource {
  readonly kind = 'sandbox-seed' as const;
  constructor(private readonly sandboxDir: string) {}

  private seed() {
    const seed = readSandboxImagingSeed(this.sandboxDir);
    if (!seed) throw new AppError('IMAGING_NO_SOURCE', "Aucune source d'examens d'imagerie : démarrez le bac à sable ou connectez le DMP.", 'no imaging seed');
    return seed;
  }

  async findDocuments(ins: string): Promise<ImagingDocumentEntry[]> {
    const seed = this.seed();
    if (seed.patient.ins !== ins) return [];
    return seed.studies.flatMap((s) => {
      const refs = [
        `${s.accessionNumber}^^^&${SANDBOX_ACCESSION_ISSUER_OID}&ISO^${ACCESSION_REFERENCE_TYPE}`,
        `${s.studyInstanceUid}^^^&${SANDBOX_ACCESSION_ISSUER_OID}&ISO^${STUDY_UID_REFERENCE_TYPE}`,
      ];
      const events = [...s.modalities.map((m) => ({ code: m, scheme: MODALITY_SCHEME })), { code: s.region.code, scheme: '1.2.250.1.213.1.1.5.695', displayName: s.region.displayName }];
      return [
        { uniqueId: s.kosSopInstanceUid, typeCode: KOS_TYPE_CODE.code, title: s.title, mimeType: 'application/dicom', serviceStartTime: s.studyDate, eventCodes: events, referenceIds: refs },
      ];
    });
  }

  async retrieveDocument(ins: string, uniqueId: string): Promise<Buffer> {
    const seed = this.seed();
    const st = seed.patient.ins === ins ? seed.studies.find((s) => s.kosSopInstanceUid === uniqueId) : undefined;
    if (!st) throw new AppError('IMAGING_KOS_NOT_FOUND', "Ce document d'imagerie est introuvable dans le dossier du patient.", `uniqueId ${uniqueId}`);
    return fs.readFileSync(st.kosFile);
  }
}
