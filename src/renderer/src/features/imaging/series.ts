/**
 * What the viewer shows: series of image ids, from an opened KOS session (WADO-RS through the
 * `lps-imaging` stream, metadata registered with the loader first) or from local DICOM files (`dicomfile:`).
 */
import type { ImagingSession } from '../../../../shared/api';
import { lps } from '../../api';
import { dicomParser, initCornerstone, jsonString, loader } from './cornerstone';
import { frameImageId, frameStore, installFrameLoader, type InstanceRecord } from './frame-stream';

export interface ViewerSeries {
  key: string;
  modality?: string;
  description?: string;
  number?: number;
  imageIds: string[];
  /** False when the KOS gives no location for it (cannot be loaded). */
  reachable: boolean;
  error?: string;
  /** Series of an opened KOS: streamed from main (see frame-stream.ts). */
  stream?: StreamedSeries;
}

export interface ViewerStudy {
  patientName?: string;
  patientId?: string;
  studyDate?: string;
  studyDescription?: string;
  accessionNumber?: string;
}

const num = (v: string | undefined): number | undefined => (v !== undefined && v !== '' && !Number.isNaN(Number(v)) ? Number(v) : undefined);

/** A series of an opened KOS, as the viewer gets it: image ids in KOS order, frames streamed from main. */
export interface StreamedSeries {
  /** `<stream root>/studies/<study>/series/<series>` */
  base: string;
  /** SOP Instance UIDs the KOS references, in KOS order. */
  sops: string[];
}

/** Where a session's series live on the stream scheme (everything under it belongs to the session). */
export function sessionRoot(session: ImagingSession): string {
  return lps.streamUrl('lps-imaging', session.streamPath);
}

/**
 * The series of an opened KOS, at once (no request): one image id per referenced instance, in KOS order, served
 * by the frame store (series stream + records). Modality, description and the final order (instance number,
 * every frame of multi-frame instances) come with the instances' records: see `describeFromRecord` and
 * `orderedImageIds`.
 */
export function sessionSeries(session: ImagingSession): ViewerSeries[] {
  initCornerstone();
  installFrameLoader();
  const root = sessionRoot(session);
  return session.series.map((s) => {
    const key = s.seriesInstanceUid;
    if (!s.reachable) return { key, imageIds: [], reachable: false, error: "Aucune adresse de récupération dans l'examen." };
    const base = `${root}/studies/${s.studyInstanceUid}/series/${s.seriesInstanceUid}`;
    frameStore.register(base);
    const sops = s.instances.map((i) => i.sopInstanceUid);
    return { key, reachable: true, imageIds: sops.map((sop) => frameImageId(base, sop)), stream: { base, sops } };
  });
}

/** Series browser fields and study overlay from one instance's metadata. */
export function describeFromRecord(r: InstanceRecord): { series: Pick<ViewerSeries, 'modality' | 'description' | 'number'>; study: ViewerStudy } {
  const m = r.metadata;
  const modality = jsonString(m, '00080060');
  const description = jsonString(m, '0008103E');
  const number = num(jsonString(m, '00200011'));
  return {
    series: { ...(modality ? { modality } : {}), ...(description ? { description } : {}), ...(number !== undefined ? { number } : {}) },
    study: {
      ...(jsonString(m, '00100010') ? { patientName: jsonString(m, '00100010')!.replace(/\^/g, ' ').trim() } : {}),
      ...(jsonString(m, '00100020') ? { patientId: jsonString(m, '00100020') } : {}),
      ...(jsonString(m, '00080020') ? { studyDate: jsonString(m, '00080020') } : {}),
      ...(jsonString(m, '00081030') ? { studyDescription: jsonString(m, '00081030') } : {}),
      ...(jsonString(m, '00080050') ? { accessionNumber: jsonString(m, '00080050') } : {}),
    },
  };
}

/**
 * The final stack of a streamed series once its instances are known: by instance number (KOS order for ties and
 * for instances without a record), every frame of multi-frame instances.
 */
export function orderedImageIds(stream: StreamedSeries): string[] {
  const items = stream.sops.map((sop, k) => {
    const r = frameStore.record(stream.base, sop);
    return { sop, k, n: r ? num(jsonString(r.metadata, '00200013')) : undefined, frames: r?.frameCount ?? 1 };
  });
  items.sort((a, b) => (a.n ?? Number.MAX_SAFE_INTEGER) - (b.n ?? Number.MAX_SAFE_INTEGER) || a.k - b.k);
  return items.flatMap((i) => Array.from({ length: i.frames }, (_, f) => frameImageId(stream.base, i.sop, f + 1)));
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
