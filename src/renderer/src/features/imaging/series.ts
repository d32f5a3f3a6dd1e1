/**
 * What the viewer shows: series of image ids, from an opened KOS session (WADO-RS through the
 * `lps-imaging` stream, metadata registered with the loader first) or from local DICOM files (`dicomfile:`).
 */
import type { ImagingSession } from '../../../../shared/api';
import { lps } from '../../api';
import { dicomParser, jsonString, loader } from './cornerstone';

export interface ViewerSeries {
  key: string;
  modality?: string;
  description?: string;
  number?: number;
  imageIds: string[];
  /** False when the KOS gives no location for it (cannot be loaded). */
  reachable: boolean;
  error?: string;
}

export interface ViewerStudy {
  patientName?: string;
  patientId?: string;
  studyDate?: string;
  studyDescription?: string;
  accessionNumber?: string;
}

type DicomJson = Record<string, { vr?: string; Value?: unknown[] }>;

const num = (v: string | undefined): number | undefined => (v !== undefined && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : undefined);

/** Reads a series' metadata through the stream, registers each frame with the loader, returns its image ids in order. */
export async function loadSessionSeries(session: ImagingSession, index: number, signal?: AbortSignal): Promise<{ series: ViewerSeries; study: ViewerStudy }> {
  const s = session.series[index]!;
  const root = lps.streamUrl('lps-imaging', session.streamPath);
  const base = `${root}/studies/${s.studyInstanceUid}/series/${s.seriesInstanceUid}`;
  const key = s.seriesInstanceUid;
  if (!s.reachable) return { series: { key, imageIds: [], reachable: false, error: "Aucune adresse de récupération dans l'examen." }, study: {} };
  const res = await fetch(`${base}/metadata`, { headers: { accept: 'application/dicom+json' }, ...(signal ? { signal } : {}) });
  if (!res.ok) {
    let message = `Série indisponible (HTTP ${res.status}).`;
    try {
      message = ((await res.json()) as { message?: string }).message ?? message;
    } catch {
      /* not JSON */
    }
    return { series: { key, imageIds: [], reachable: true, error: message }, study: {} };
  }
  const instances = (await res.json()) as DicomJson[];
  const wanted = new Set(s.instances.map((i) => i.sopInstanceUid));
  const selected = instances
    .filter((i) => wanted.has(jsonString(i, '00080018') ?? ''))
    .sort((a, b) => (num(jsonString(a, '00200013')) ?? 0) - (num(jsonString(b, '00200013')) ?? 0));
  const imageIds: string[] = [];
  for (const inst of selected) {
    const sop = jsonString(inst, '00080018')!;
    const frames = num(jsonString(inst, '00280008')) ?? 1;
    for (let f = 1; f <= frames; f++) {
      const id = `wadors:${base}/instances/${sop}/frames/${f}`;
      loader.wadors.metaDataManager.add(id, inst);
      imageIds.push(id);
    }
  }
  const first = selected[0] ?? {};
  return {
    series: {
      key,
      reachable: true,
      imageIds,
      ...(jsonString(first, '00080060') ? { modality: jsonString(first, '00080060') } : {}),
      ...(jsonString(first, '0008103E') ? { description: jsonString(first, '0008103E') } : {}),
      ...(num(jsonString(first, '00200011')) !== undefined ? { number: num(jsonString(first, '00200011')) } : {}),
      ...(selected.length < wanted.size ? { error: `${wanted.size - selected.length} image(s) absente(s) du serveur.` } : {}),
    },
    study: {
      patientName: jsonString(first, '00100010')?.replace(/\^/g, ' ').trim(),
      patientId: jsonString(first, '00100020'),
      studyDate: jsonString(first, '00080020'),
      studyDescription: jsonString(first, '00081030'),
      accessionNumber: jsonString(first, '00080050'),
    },
  };
}

export const KOS_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.88.59';

export interface LocalScan {
  series: ViewerSeries[];
  study: ViewerStudy;
  /** Local KOS files found among the chosen ones (opened through main). */
  kosFiles: File[];
  skipped: string[];
}

/** Sorts local files into series (Part 10 only), registering each with the loader's file manager. */
export async function scanLocalFiles(files: File[]): Promise<LocalScan> {
  const bySeries = new Map<string, { series: ViewerSeries; items: { id: string; order: number }[] }>();
  const kosFiles: File[] = [];
  const skipped: string[] = [];
  let study: ViewerStudy = {};
  for (const file of files) {
    let ds: { string(tag: string): string | undefined; elements: Record<string, unknown> };
    try {
      const head = new Uint8Array(await file.arrayBuffer());
      ds = dicomParser.parseDicom(head, { untilTag: 'x7fe00010' });
    } catch {
      skipped.push(file.name);
      continue;
    }
    const sopClass = ds.string('x00020002') ?? ds.string('x00080016');
    if (sopClass === KOS_SOP_CLASS) {
      kosFiles.push(file);
      continue;
    }
    if (!ds.elements['x7fe00010'] && !ds.elements['x00280010']) {
      skipped.push(file.name);
      continue;
    }
    const uid = ds.string('x0020000e') ?? `local-${file.name}`;
    let entry = bySeries.get(uid);
    if (!entry) {
      entry = {
        series: {
          key: uid,
          reachable: true,
          imageIds: [],
          ...(ds.string('x00080060') ? { modality: ds.string('x00080060') } : {}),
          ...(ds.string('x0008103e') ? { description: ds.string('x0008103e') } : {}),
          ...(num(ds.string('x00200011')) !== undefined ? { number: num(ds.string('x00200011')) } : {}),
        },
        items: [],
      };
      bySeries.set(uid, entry);
      if (!study.patientName) {
        study = {
          patientName: ds.string('x00100010')?.replace(/\^/g, ' ').trim(),
          patientId: ds.string('x00100020'),
          studyDate: ds.string('x00080020'),
          studyDescription: ds.string('x00081030'),
          accessionNumber: ds.string('x00080050'),
        };
      }
    }
    const base = loader.wadouri.fileManager.add(file) as string;
    const frames = num(ds.string('x00280008')) ?? 1;
    const order = num(ds.string('x00200013')) ?? entry.items.length;
    for (let f = 0; f < frames; f++) entry.items.push({ id: frames > 1 ? `${base}?frame=${f}` : base, order: order * 10000 + f });
  }
  const series = [...bySeries.values()].map(({ series, items }) => ({ ...series, imageIds: items.sort((a, b) => a.order - b.order).map((i) => i.id) }));
  series.sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
  return { series, study, kosFiles, skipped };
}
