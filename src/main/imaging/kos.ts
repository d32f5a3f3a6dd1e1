import { AppError } from '../core/errors';
import { SOP_CLASS, T, TS } from './dicom/constants';
import { parseDicom, type DicomDataSet } from './dicom/parser';

/**
 * Key Object Selection (KOS) manifests: what the DMP stores for an imaging exam (seed 002, IHE XDS-I.b).
 * `parseKos` turns one into study → series → instances, each series with where to fetch it from.
 */

export interface KosInstance {
  sopClassUid: string;
  sopInstanceUid: string;
}

/** Where a series can be fetched: a WADO-RS URL when the KOS says so, else the DICOM location hints. */
export interface RetrieveLocation {
  /** Which KOS attribute gave the location, in the order tried. */
  source: 'series-retrieve-url' | 'wado-rs-retrieval' | 'study-retrieve-url' | 'ae-title' | 'location-uid' | 'none';
  /** WADO-RS URL of the series (`…/studies/{study}/series/{series}`) when known. */
  seriesUrl?: string;
  /** DICOMweb service root (before `/studies`) when it can be derived from the URL. */
  dicomwebRoot?: string;
  retrieveAeTitle?: string;
  retrieveLocationUid?: string;
}

export interface KosSeries {
  seriesInstanceUid: string;
  retrieve: RetrieveLocation;
  instances: KosInstance[];
}

export interface KosStudy {
  studyInstanceUid: string;
  series: KosSeries[];
}

export interface KosManifest {
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  /** Document title, (113030, DCM, "Manifest") for an XDS-I manifest. */
  title?: { code: string; scheme: string; meaning?: string };
  patient: { id?: string; issuer?: string; name?: string; birthDate?: string; sex?: string };
  accessionNumber?: string;
  studyDate?: string;
  studyDescription?: string;
  contentDate?: string;
  studies: KosStudy[];
  instanceCount: number;
  warnings: string[];
}

function kosError(detail: string): AppError {
  return new AppError('IMAGING_KOS_MALFORMED', "Le document d'imagerie (KOS) est mal formé : ses références aux images sont inexploitables.", detail);
}

/** Splits a WADO-RS URL into its service root and checks it is http(s). */
export function dicomwebRootOf(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
  const i = u.pathname.indexOf('/studies');
  const path = i >= 0 ? u.pathname.slice(0, i) : u.pathname.replace(/\/+$/, '');
  return `${u.origin}${path}`;
}

function httpUrl(value: string | undefined, warnings: string[], where: string): string | undefined {
  if (!value) return undefined;
  // UR values are trimmed by the reader; a multi-valued UR is not allowed, take the first URL if several.
  const first = value.split('\\')[0]!.trim();
  if (dicomwebRootOf(first)) return first;
  warnings.push(`${where}: Retrieve URL is not an http(s) URL (${first.slice(0, 80)})`);
  return undefined;
}

function resolveLocation(study: DicomDataSet, series: DicomDataSet, studyUid: string, seriesUid: string, warnings: string[]): RetrieveLocation {
  const ae = series.string(T.RetrieveAeTitle) ?? study.string(T.RetrieveAeTitle);
  const loc = series.string(T.RetrieveLocationUid) ?? study.string(T.RetrieveLocationUid);
  const hints = { ...(ae ? { retrieveAeTitle: ae } : {}), ...(loc ? { retrieveLocationUid: loc } : {}) };
  const withUrl = (source: RetrieveLocation['source'], seriesUrl: string): RetrieveLocation => ({
    source,
    seriesUrl,
    dicomwebRoot: dicomwebRootOf(seriesUrl),
    ...hints,
  });
  const seriesUrl = httpUrl(series.string(T.RetrieveUrl), warnings, `series ${seriesUid}`);
  if (seriesUrl) {
    // Some producers put the study URL at series level: complete it.
    return withUrl('series-retrieve-url', /\/series\/[^/]+\/?$/.test(seriesUrl) ? seriesUrl : `${seriesUrl.replace(/\/+$/, '')}/series/${seriesUid}`);
  }
  for (const item of series.sequence(T.WadoRsRetrievalSequence)) {
    const u = httpUrl(item.string(T.RetrieveUrl), warnings, `series ${seriesUid} WADO-RS retrieval`);
    if (u) return withUrl('wado-rs-retrieval', /\/series\/[^/]+\/?$/.test(u) ? u : `${u.replace(/\/+$/, '')}/series/${seriesUid}`);
  }
  const studyUrl = httpUrl(study.string(T.RetrieveUrl), warnings, `study ${studyUid}`);
  if (studyUrl) {
    const root = dicomwebRootOf(studyUrl)!;
    return withUrl('study-retrieve-url', `${root}/studies/${studyUid}/series/${seriesUid}`);
  }
  if (ae) return { source: 'ae-title', ...hints };
  if (loc) return { source: 'location-uid', ...hints };
  return { source: 'none' };
}

/** Parses a KOS from its DICOM bytes. Throws `AppError` (IMAGING_KOS_*, IMAGING_DICOM_*) on anything unusable. */
export function parseKos(bytes: Buffer | Uint8Array): KosManifest {
  const { dataset: ds, meta, transferSyntaxUid } = parseDicom(bytes);
  const sopClassUid = ds.string(T.SopClassUid) ?? meta?.string(T.MediaStorageSopClassUid);
  if (sopClassUid !== SOP_CLASS.KeyObjectSelection) {
    throw new AppError(
      'IMAGING_KOS_NOT_KOS',
      "Ce fichier DICOM n'est pas un document de sélection d'images (KOS).",
      `SOP Class UID ${sopClassUid ?? '(absent)'}, expected ${SOP_CLASS.KeyObjectSelection}`,
    );
  }
  const sopInstanceUid = ds.string(T.SopInstanceUid) ?? meta?.string(T.MediaStorageSopInstanceUid);
  if (!sopInstanceUid) throw kosError('no SOP Instance UID (0008,0018)');
  const warnings: string[] = [];
  const modality = ds.string(T.Modality);
  if (modality !== 'KO') warnings.push(`Modality is ${modality ?? '(absent)'}, expected KO`);

  const evidence = ds.sequence(T.CurrentRequestedProcedureEvidenceSequence);
  if (evidence.length === 0) throw kosError('no Current Requested Procedure Evidence Sequence (0040,A375)');
  const studies: KosStudy[] = [];
  let instanceCount = 0;
  evidence.forEach((studyItem, si) => {
    const studyInstanceUid = studyItem.string(T.StudyInstanceUid);
    if (!studyInstanceUid) throw kosError(`evidence item ${si + 1} has no Study Instance UID`);
    const seriesItems = studyItem.sequence(T.ReferencedSeriesSequence);
    if (seriesItems.length === 0) throw kosError(`study ${studyInstanceUid} has no Referenced Series Sequence (0008,1115)`);
    const series: KosSeries[] = seriesItems.map((seriesItem, ri) => {
      const seriesInstanceUid = seriesItem.string(T.SeriesInstanceUid);
      if (!seriesInstanceUid) throw kosError(`study ${studyInstanceUid}, series item ${ri + 1} has no Series Instance UID`);
      const sops = seriesItem.sequence(T.ReferencedSopSequence);
      if (sops.length === 0) throw kosError(`series ${seriesInstanceUid} references no instance (0008,1199)`);
      const instances = sops.map((sop, ii) => {
        const sopClass = sop.string(T.ReferencedSopClassUid);
        const sopInstance = sop.string(T.ReferencedSopInstanceUid);
        if (!sopClass || !sopInstance) throw kosError(`series ${seriesInstanceUid}, instance ${ii + 1} lacks its SOP Class or Instance UID`);
        return { sopClassUid: sopClass, sopInstanceUid: sopInstance };
      });
      instanceCount += instances.length;
      const retrieve = resolveLocation(studyItem, seriesItem, studyInstanceUid, seriesInstanceUid, warnings);
      if (retrieve.source === 'none') warnings.push(`series ${seriesInstanceUid} has no retrieve location`);
      return { seriesInstanceUid, retrieve, instances };
    });
    studies.push({ studyInstanceUid, series });
  });

  const concept = ds.sequence(T.ConceptNameCodeSequence)[0];
  const title = concept?.string(T.CodeValue)
    ? { code: concept.string(T.CodeValue)!, scheme: concept.string(T.CodingSchemeDesignator) ?? '', ...(concept.string(T.CodeMeaning) ? { meaning: concept.string(T.CodeMeaning)! } : {}) }
    : undefined;
  const issuerQualifier = ds.sequence(0x00100024)[0]?.string(0x00400032);
  const opt = (k: string, v: string | undefined) => (v ? { [k]: v } : {});
  return {
    sopInstanceUid,
    sopClassUid,
    transferSyntaxUid: transferSyntaxUid ?? TS.ExplicitLE,
    ...(title ? { title } : {}),
    patient: {
      ...opt('id', ds.string(T.PatientId)),
      ...opt('issuer', issuerQualifier ?? ds.string(T.IssuerOfPatientId)),
      ...opt('name', ds.string(T.PatientName)),
      ...opt('birthDate', ds.string(T.PatientBirthDate)),
      ...opt('sex', ds.string(T.PatientSex)),
    },
    ...opt('accessionNumber', ds.string(T.AccessionNumber)),
    ...opt('studyDate', ds.string(T.StudyDate)),
    ...opt('studyDescription', ds.string(T.StudyDescription)),
    ...opt('contentDate', ds.string(T.ContentDate)),
    studies,
    instanceCount,
    warnings,
  };
}

/** Every referenced instance with its study and series, in KOS order. */
export function kosInstances(kos: KosManifest): { study: KosStudy; series: KosSeries; instance: KosInstance }[] {
  return kos.studies.flatMap((study) => study.series.flatMap((series) => series.instances.map((instance) => ({ study, series, instance }))));
}
