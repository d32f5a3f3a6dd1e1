import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { DmpClient, type Patient, type SearchFilters } from '../dmp/client';
import { resolveDmpConfig } from '../dmp/config';
import type { DocumentEntry } from '../dmp/ebrim';
import { sandboxDir } from '../store/paths';
import { CR_IMG_TYPE_CODE, KOS_TYPE_CODE, MODALITY_SCHEME, SeedDocumentSource, type ExamFilters, type ImagingDocumentEntry, type ImagingDocumentSource } from './exams';

/**
 * The imaging exams source over the real DMP client: TD3.1 FindDocuments restricted to the imaging class
 * (classCode 31) and the KOS / CR-IMG types, with the modality, region and date filters sent to the DMP,
 * and TD3.2 to retrieve a KOS (checked against its metadata hash by the DMP client).
 */

/** Class "Imagerie médicale" of the DMP class codes. */
export const IMAGING_CLASS_CODE = { code: '31', scheme: '1.2.250.1.213.1.1.4.1' };
/** LOINC "Key images" type some producers (and our DMP sandbox) give their KOS instead of IMG-KOS. */
export const KOS_LOINC_TYPE_CODE = { code: '55113-5', scheme: '2.16.840.1.113883.6.1' };
export const KOS_FORMAT_CODE = '1.2.840.10008.5.1.4.1.1.88.59';
/** DICOM modality code scheme (DCM CID 29), used in XDS-I.b eventCodeList alongside the CI-SIS one. */
export const DICOM_MODALITY_SCHEME = '1.2.840.10008.2.16.4';

export function isKosEntry(e: Pick<DocumentEntry, 'typeCode' | 'formatCode' | 'mimeType'>): boolean {
  const t = e.typeCode?.code;
  return t === KOS_TYPE_CODE.code || t === KOS_LOINC_TYPE_CODE.code || (e.formatCode?.code === KOS_FORMAT_CODE && e.mimeType === 'application/dicom');
}

/** DMP metadata → what exam listing needs (KOS typed IMG-KOS, modality codes on the CI-SIS scheme). */
export function toImagingEntry(e: DocumentEntry): ImagingDocumentEntry | undefined {
  const typeCode = isKosEntry(e) ? KOS_TYPE_CODE.code : e.typeCode?.code === CR_IMG_TYPE_CODE.code ? CR_IMG_TYPE_CODE.code : undefined;
  if (!typeCode) return undefined;
  return {
    uniqueId: e.uniqueId,
    typeCode,
    ...(e.title ? { title: e.title } : {}),
    mimeType: e.mimeType,
    ...(e.serviceStartTime ? { serviceStartTime: e.serviceStartTime } : {}),
    ...(e.creationTime ? { creationTime: e.creationTime } : {}),
    eventCodes: e.eventCodes.map((c) => ({
      code: c.code,
      scheme: c.scheme === DICOM_MODALITY_SCHEME ? MODALITY_SCHEME : c.scheme,
      ...(c.display ? { displayName: c.display } : {}),
    })),
    referenceIds: e.referenceIds,
  };
}

const compact = (d: string): string => d.replace(/[^0-9]/g, '');

export class DmpDocumentSource implements ImagingDocumentSource {
  readonly kind = 'dmp' as const;
  constructor(
    private readonly client: Pick<DmpClient, 'find' | 'getDocument'>,
    private readonly insOid: string,
  ) {}

  private patient(ins: string): Patient {
    return { ins, insOid: this.insOid };
  }

  /** TD3.1: the imaging documents (KOS and CR-IMG) of the patient, filtered by the DMP. */
  async findDocuments(ins: string, _signal?: AbortSignal, filters: ExamFilters = {}): Promise<ImagingDocumentEntry[]> {
    const f: SearchFilters = {
      classCodes: [`${IMAGING_CLASS_CODE.code}^^${IMAGING_CLASS_CODE.scheme}`],
      typeCodes: [KOS_TYPE_CODE, KOS_LOINC_TYPE_CODE, CR_IMG_TYPE_CODE].map((t) => `${t.code}^^${t.scheme}`),
      ...(filters.modality ? { modalities: [filters.modality.toUpperCase()] } : {}),
      ...(filters.region ? { regions: [filters.region] } : {}),
      ...(filters.from ? { serviceStartFrom: compact(filters.from).slice(0, 8) } : {}),
      ...(filters.to ? { serviceStartTo: `${compact(filters.to).slice(0, 8)}235959` } : {}),
    };
    const r = await this.client.find(this.patient(ins), f);
    const entries = r.entries.map(toImagingEntry).filter((e): e is ImagingDocumentEntry => !!e);
    // Reports that do not carry the modality/region event codes: fetched by accession number.
    if ((filters.modality || filters.region) && entries.some((e) => e.typeCode === KOS_TYPE_CODE.code)) {
      const known = new Set(entries.map((e) => e.uniqueId));
      const accessions = entries
        .filter((e) => e.typeCode === KOS_TYPE_CODE.code)
        .flatMap((e) => e.referenceIds.filter((x) => x.endsWith('urn:ihe:iti:xds:2013:accession')).map((x) => x.split('^')[0]!))
        .filter(Boolean);
      if (accessions.length) {
        try {
          const more = await this.client.find(this.patient(ins), { typeCodes: [`${CR_IMG_TYPE_CODE.code}^^${CR_IMG_TYPE_CODE.scheme}`], accessionNumbers: [...new Set(accessions)] });
          for (const e of more.entries.map(toImagingEntry)) if (e && !known.has(e.uniqueId)) entries.push(e);
        } catch {
          /* the report links are a convenience: the exams themselves are listed */
        }
      }
    }
    return entries;
  }

  /** TD3.1 + TD3.2: the KOS bytes (hash checked by the DMP client). */
  async retrieveDocument(ins: string, uniqueId: string): Promise<Buffer> {
    const { entry, data } = await this.client.getDocument(this.patient(ins), uniqueId);
    if (!isKosEntry(entry) && entry.typeCode?.code !== CR_IMG_TYPE_CODE.code) {
      throw new AppError('IMAGING_NOT_IMAGING_DOCUMENT', "Ce document du DMP n'est pas un examen d'imagerie.", `typeCode ${entry.typeCode?.code ?? '?'}`);
    }
    return data;
  }
}

/**
 * Which source serves a Core: the DMP when it is configured (sandbox running with its `dmp` section, or the
 * production profile). The sandbox seed is only a fallback when the sandbox's PACS seed exists but no DMP
 * is configured (e.g. `lps sandbox up` with the DMP service disabled) — documented in docs/imaging-api.md.
 */
export function imagingSourceFor(core: Core): ImagingDocumentSource & { findDocuments(ins: string, signal?: AbortSignal, filters?: ExamFilters): Promise<ImagingDocumentEntry[]> } {
  try {
    const cfg = resolveDmpConfig(core);
    return new DmpDocumentSource(new DmpClient(cfg.client), cfg.insOid);
  } catch (err) {
    if ((err as AppError).code !== 'DMP_NOT_CONFIGURED') throw err;
    return new SeedDocumentSource(sandboxDir(core.dataDir));
  }
}
