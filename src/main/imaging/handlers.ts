import fs from 'node:fs';
import path from 'node:path';
import type { ImagingSession } from '../../shared/api/imaging';
import { APP_ORIGIN } from '../../shared/security';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { identityRuntime } from '../identity/runtime';
import { imagingCacheKey } from './cache-key';
import { DicomwebClient } from './dicomweb-client';
import { trustProvider } from './trust';
import { DiskCache } from './disk-cache';
import { imagingSourceFor } from './dmp-source';
import { buildExams, kosForReport, retrieveKos } from './exams';
import { parseKos, type KosManifest } from './kos';
import { SeriesBulkLoader } from './series-bulk';
import { createImagingStreamHandler, IMAGING_SCHEME, ImagingSessions, warmFirstImage } from './stream-handler';

/** Size cap of the encrypted image cache (setting `imaging.cacheMaxBytes`). */
export const DEFAULT_CACHE_MAX_BYTES = 2 * 1024 ** 3;

interface Runtime {
  sessions: ImagingSessions;
  client: DicomwebClient;
  bulk: SeriesBulkLoader;
  info: Map<string, ImagingSession>;
  handler: (request: Request) => Promise<Response>;
}

/**
 * The PSC access token when a PSC session is open; else (not in Electron) LPS_PSC_ACCESS_TOKEN; else, with the
 * sandbox profile active and running, the sandbox PACS's own token (its proxy also accepts PSC tokens through introspection). Never leaves main.
 */
function tokenProvider(core: Core): () => Promise<string | undefined> {
  let sandboxToken: { value: string | undefined; at: number } | undefined;
  return async () => {
    try {
      const psc = identityRuntime(core).psc();
      if (psc.session()) return await psc.accessToken();
    } catch {
      /* PSC not configured or session ended: fall through */
    }
    // Outside Electron (CLI, harness, benchmark), like `lps imaging fetch`: an explicit token from the environment.
    if (core.runtime !== 'electron' && process.env.LPS_PSC_ACCESS_TOKEN) return process.env.LPS_PSC_ACCESS_TOKEN;
    if (!sandboxToken || Date.now() - sandboxToken.at > 5000) {
      let value: string | undefined;
      if (core.profiles.state(core.sandbox.isRunning()).active === 'sandbox') {
        const profile = core.sandbox.status() as unknown as { running: boolean; pacs?: { accessToken?: string } };
        value = profile.running ? profile.pacs?.accessToken : undefined;
      }
      sandboxToken = { value, at: Date.now() };
    }
    return sandboxToken.value;
  };
}

const runtimes = new WeakMap<Core, Runtime>();

/**
 * In Electron the renderer (app://lps, or the dev server) reads `lps-imaging://` cross-origin (the loader uses XHR):
 * the answer names that origin. Same-origin in the browser harness, where no Origin header is sent.
 */
function withCors(request: Request, res: Response): Response {
  const origin = request.headers.get('origin');
  const dev = process.env.ELECTRON_RENDERER_URL ? new URL(process.env.ELECTRON_RENDERER_URL).origin : undefined;
  if (!origin || (origin !== APP_ORIGIN && origin !== dev)) return res;
  const headers = new Headers(res.headers);
  headers.set('access-control-allow-origin', origin);
  headers.set('access-control-expose-headers', 'content-type, x-lps-cache');
  headers.append('vary', 'origin');
  return new Response(res.body, { status: res.status, headers });
}

function handleOf(request: Request): string {
  try {
    return new URL(request.url).pathname.split('/')[1] ?? '';
  } catch {
    return '';
  }
}

function runtimeOf(core: Core): Runtime {
  let rt = runtimes.get(core);
  if (rt) return rt;
  const maxBytes = core.settings.get<number>('imaging.cacheMaxBytes') ?? DEFAULT_CACHE_MAX_BYTES;
  const cache = new DiskCache(path.join(core.dataDir, 'cache', 'imaging'), maxBytes, imagingCacheKey(core));
  const client = new DicomwebClient({ getToken: tokenProvider(core), cache, ca: trustProvider(core) });
  const sessions = new ImagingSessions();
  const base = createImagingStreamHandler({ sessions, client, cache });
  const bulk = new SeriesBulkLoader(client);
  // Frames of a series being prefetched come from that one retrieval; everything else from the stream handler.
  const handler = async (request: Request) => withCors(request, (sessions.get(handleOf(request)) ? await bulk.tryServe(request) : undefined) ?? (await base(request)));
  rt = { sessions, client, bulk, info: new Map(), handler };
  runtimes.set(core, rt);
  const r = rt;
  core.onClose(() => {
    r.bulk.stopAll();
    r.sessions.closeAll();
    r.info.clear();
  });
  return rt;
}

function actorOf(core: Core): string {
  try {
    const s = identityRuntime(core).psc().session();
    if (s) return s.identity.nationalId;
  } catch {
    /* not configured */
  }
  const profile = core.sandbox.status() as unknown as { dmp?: { practitioner?: { nameId?: string } } };
  return profile.dmp?.practitioner?.nameId ?? 'utilisateur';
}

export function sessionOf(kos: KosManifest, opened: { handle: string }, kosUniqueId: string, source: ImagingSession['source'], reachable: (study: string, series: string) => boolean): ImagingSession {
  return {
    handle: opened.handle,
    streamPath: `wado/${opened.handle}`,
    kosUniqueId,
    source,
    patient: {
      ...(kos.patient.id ? { id: kos.patient.id } : {}),
      ...(kos.patient.name ? { name: kos.patient.name } : {}),
      ...(kos.patient.birthDate ? { birthDate: kos.patient.birthDate } : {}),
      ...(kos.patient.sex ? { sex: kos.patient.sex } : {}),
    },
    ...(kos.accessionNumber ? { accessionNumber: kos.accessionNumber } : {}),
    ...(kos.studyDate ? { studyDate: kos.studyDate } : {}),
    ...(kos.studyDescription ? { studyDescription: kos.studyDescription } : {}),
    series: kos.studies.flatMap((st) =>
      st.series.map((se) => ({
        studyInstanceUid: st.studyInstanceUid,
        seriesInstanceUid: se.seriesInstanceUid,
        reachable: reachable(st.studyInstanceUid, se.seriesInstanceUid),
        instances: se.instances.map((i) => ({ sopInstanceUid: i.sopInstanceUid, sopClassUid: i.sopClassUid })),
      })),
    ),
    instanceCount: kos.instanceCount,
    warnings: kos.warnings,
  };
}

export function registerImagingHandlers(core: Core): void {
  // The stream scheme is registered now (Electron maps it right after createCore); its state is lazy.
  core.registerStream(IMAGING_SCHEME, (request) => runtimeOf(core).handler(request));

  core.registry.register('imaging.exams', async (input) => {
    const source = imagingSourceFor(core);
    const filters = {
      ...(input.from ? { from: input.from } : {}),
      ...(input.to ? { to: input.to } : {}),
      ...(input.modality ? { modality: input.modality } : {}),
      ...(input.region ? { region: input.region } : {}),
    };
    try {
      const entries = await source.findDocuments(input.ins, undefined, filters);
      const exams = buildExams(entries, filters);
      core.audit.append({ actor: actorOf(core), action: 'imaging.exams', subject: input.ins, outcome: 'success', details: { source: source.kind, count: exams.length, filters } });
      return { ins: input.ins, source: source.kind, exams };
    } catch (err) {
      core.audit.append({ actor: actorOf(core), action: 'imaging.exams', subject: input.ins, outcome: 'failure', details: { code: (err as AppError).code ?? 'INTERNAL' } });
      throw err;
    }
  });

  core.registry.register('imaging.open', async (input) => {
    const rt = runtimeOf(core);
    let kos: KosManifest;
    let kosUniqueId: string;
    let source: ImagingSession['source'];
    const subject = input.ins ?? '(fichier local)';
    try {
      if (input.kosUniqueId || input.reportUniqueId) {
        const src = imagingSourceFor(core);
        source = src.kind;
        if (input.reportUniqueId) {
          const entries = await src.findDocuments(input.ins!);
          const found = kosForReport(entries, input.reportUniqueId);
          if (!found.length) {
            throw new AppError('IMAGING_NO_KOS_FOR_REPORT', "Aucun examen d'imagerie n'est associé à ce compte rendu dans le DMP (même numéro d'examen).", `report ${input.reportUniqueId}`);
          }
          kosUniqueId = found[0]!.uniqueId;
        } else kosUniqueId = input.kosUniqueId!;
        kos = await retrieveKos(src, input.ins!, kosUniqueId);
      } else {
        let bytes: Buffer;
        if (input.path) {
          const st = fs.statSync(input.path, { throwIfNoEntry: false });
          if (!st?.isFile()) throw new AppError('FILE_NOT_FOUND', `Fichier introuvable : ${path.basename(input.path)}`, input.path);
          if (st.size > 20_000_000) throw new AppError('FILE_TOO_LARGE', 'Ce fichier est trop volumineux pour être un document KOS.', `${st.size} bytes`);
          bytes = fs.readFileSync(input.path);
        } else bytes = Buffer.from(input.kosBase64!, 'base64');
        kos = parseKos(bytes);
        if (input.ins && kos.patient.id && kos.patient.id !== input.ins) {
          throw new AppError('IMAGING_KOS_PATIENT_MISMATCH', "Ce document d'imagerie ne concerne pas le patient en cours : il n'est pas ouvert.", 'KOS PatientID differs from the INS');
        }
        kosUniqueId = kos.sopInstanceUid;
        source = 'file';
      }
      const opened = rt.sessions.open(kos);
      const session = rt.sessions.get(opened.handle)!;
      const info = sessionOf(kos, opened, kosUniqueId, source, (st, se) => session.series.has(`${st}/${se}`));
      rt.info.set(opened.handle, info);
      // The first image is on its way while the renderer mounts the viewer.
      warmFirstImage(rt, opened.handle);
      core.audit.append({ actor: actorOf(core), action: 'imaging.open', subject, outcome: 'success', details: { kos: kosUniqueId, source, instances: kos.instanceCount } });
      return info;
    } catch (err) {
      core.audit.append({ actor: actorOf(core), action: 'imaging.open', subject, outcome: 'failure', details: { code: (err as AppError).code ?? 'INTERNAL', kos: input.kosUniqueId ?? input.reportUniqueId ?? null } });
      throw err;
    }
  });

  core.registry.register('imaging.prefetch', async ({ handle, seriesInstanceUid }) => {
    const rt = runtimeOf(core);
    const info = rt.info.get(handle);
    const session = rt.sessions.get(handle);
    if (!info || !session) throw new AppError('IMAGING_STREAM_CLOSED', 'Cette visualisation a été fermée.', 'unknown handle');
    const series = info.series.find((s) => s.seriesInstanceUid === seriesInstanceUid && s.reachable);
    if (!series) throw new AppError('IMAGING_STREAM_FORBIDDEN', "Cette série ne fait pas partie de l'examen ouvert.", seriesInstanceUid);
    const url = session.series.get(`${series.studyInstanceUid}/${series.seriesInstanceUid}`)!;
    return rt.bulk.start(
      handle,
      { seriesUrl: url, studyInstanceUid: series.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid, kosSopInstanceUid: session.kos.sopInstanceUid },
      new Set(series.instances.map((i) => i.sopInstanceUid)),
      session.abort.signal,
    );
  });

  core.registry.register('imaging.close', ({ handle }) => {
    const rt = runtimeOf(core);
    const known = rt.info.delete(handle);
    rt.sessions.close(handle);
    return { closed: known };
  });
}
