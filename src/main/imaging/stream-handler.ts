import crypto from 'node:crypto';
import { AppError } from '../core/errors';
import { ACCEPT_FRAMES, ACCEPT_METADATA, type DicomwebClient, type SeriesTarget } from './dicomweb-client';
import type { DiskCache } from './disk-cache';
import { FRAME_STREAM_TYPE, instanceRecordBody, seriesRecordStream } from './frame-stream';
import type { KosManifest } from './kos';

/**
 * How the renderer gets images without ever holding a token or talking cross-origin: it asks for
 * `lps-imaging://wado/<handle>/studies/…` (the cornerstone WADO-RS loader's base URL is
 * `lps-imaging://wado/<handle>`), and this handler, in main, forwards the request to the PACS named by
 * the KOS with the PSC token and the KOS-SOPInstanceUID header, streaming the answer back.
 *
 * A handle is an unguessable id bound to one opened KOS: only the studies and series that KOS references
 * can be reached through it (the renderer cannot use it as an open proxy). Closing the viewer closes the
 * handle and aborts its transfers. Electron wires it with `protocol.handle('lps-imaging', handler)`; the
 * browser harness can mount it behind a loopback server.
 */

export const IMAGING_SCHEME = 'lps-imaging';

interface Session {
  kos: KosManifest;
  /** study/series → DICOMweb series URL */
  series: Map<string, string>;
  abort: AbortController;
  /** study/series/sop → its record, retrieved ahead of the renderer's request (see `warmFirstImage`). */
  warm: Map<string, Promise<Uint8Array>>;
}

export class ImagingSessions {
  private readonly sessions = new Map<string, Session>();

  open(kos: KosManifest, opts: { dicomwebRootOverride?: string } = {}): { handle: string; baseUrl: string } {
    const handle = crypto.randomBytes(18).toString('base64url');
    const series = new Map<string, string>();
    for (const st of kos.studies)
      for (const se of st.series) {
        const root = opts.dicomwebRootOverride?.replace(/\/+$/, '');
        const url = root ? `${root}/studies/${st.studyInstanceUid}/series/${se.seriesInstanceUid}` : se.retrieve.seriesUrl;
        if (url) series.set(`${st.studyInstanceUid}/${se.seriesInstanceUid}`, url);
      }
    this.sessions.set(handle, { kos, series, abort: new AbortController(), warm: new Map() });
    return { handle, baseUrl: `${IMAGING_SCHEME}://wado/${handle}` };
  }

  get(handle: string): Session | undefined {
    return this.sessions.get(handle);
  }

  /** Ends a session: its in-flight transfers are aborted. */
  close(handle: string): void {
    const s = this.sessions.get(handle);
    if (!s) return;
    s.abort.abort();
    this.sessions.delete(handle);
  }

  closeAll(): void {
    for (const h of [...this.sessions.keys()]) this.close(h);
  }
}

const WARM_KEEP_MS = 30_000;

/**
 * Starts retrieving the first image of an exam (first series, first instance in KOS order) as soon as the exam is
 * opened, while the renderer mounts the viewer: the renderer's request for it takes the record already on its
 * way — once; a failure is not reported here but to that request, which then retries. Only that image: the
 * thumbnails and the series stream come after it, and anything started earlier would compete with it for the
 * cores. Unclaimed, the record goes after 30 s.
 */
export function warmFirstImage(deps: { sessions: ImagingSessions; client: DicomwebClient }, handle: string): void {
  const session = deps.sessions.get(handle);
  const st = session?.kos.studies[0];
  const se = st?.series[0];
  const sop = se?.instances[0]?.sopInstanceUid;
  const seriesUrl = st && se ? session.series.get(`${st.studyInstanceUid}/${se.seriesInstanceUid}`) : undefined;
  if (!session || !st || !se || !sop || !seriesUrl) return;
  const key = `${st.studyInstanceUid}/${se.seriesInstanceUid}/${sop}`;
  const target: SeriesTarget = { seriesUrl, studyInstanceUid: st.studyInstanceUid, seriesInstanceUid: se.seriesInstanceUid, kosSopInstanceUid: session.kos.sopInstanceUid };
  const p = instanceRecordBody(deps.client, target, sop, session.abort.signal);
  p.catch(() => undefined);
  session.warm.set(key, p);
  setTimeout(() => session.warm.get(key) === p && session.warm.delete(key), WARM_KEEP_MS).unref();
}

/** The viewer's bulk path (our internal format, see frame-stream.ts): a series, or one instance, as instance records. */
const FRAMES_PATH = /^\/([A-Za-z0-9_-]{10,64})\/studies\/([0-9.]+)\/series\/([0-9.]+)(?:\/instances\/([0-9.]+))?\/lps-frames$/;

/** The SOP Instance UIDs a KOS references in one series (only those can be streamed). */
function kosInstances(kos: KosManifest, study: string, series: string): Set<string> {
  const se = kos.studies.find((s) => s.studyInstanceUid === study)?.series.find((s) => s.seriesInstanceUid === series);
  return new Set(se?.instances.map((i) => i.sopInstanceUid) ?? []);
}

const PATH = /^\/([A-Za-z0-9_-]{10,64})\/studies\/([0-9.]+)\/series\/([0-9.]+)(\/metadata|\/instances\/([0-9.]+)(\/frames\/([0-9,]+)|\/metadata)?)?$/;

function errorResponse(status: number, err: AppError): Response {
  return new Response(JSON.stringify({ code: err.code, message: err.userMessage }), { status, headers: { 'content-type': 'application/json' } });
}

function statusOf(err: AppError): number {
  switch (err.code) {
    case 'IMAGING_DICOMWEB_UNAUTHORIZED':
      return 401;
    case 'IMAGING_DICOMWEB_NOT_FOUND':
      return 404;
    case 'IMAGING_DICOMWEB_TIMEOUT':
      return 504;
    case 'IMAGING_CANCELLED':
      return 499;
    default:
      return 502;
  }
}

/** The protocol handler: a plain `(Request) => Promise<Response>`. */
export function createImagingStreamHandler(deps: { sessions: ImagingSessions; client: DicomwebClient; cache?: DiskCache }) {
  async function frames(m: RegExpExecArray, request: Request): Promise<Response> {
    const [, handle, study, series, sop] = m;
    const session = deps.sessions.get(handle!);
    if (!session) return errorResponse(410, new AppError('IMAGING_STREAM_CLOSED', 'Cette visualisation a été fermée.'));
    const seriesUrl = session.series.get(`${study}/${series}`);
    const only = kosInstances(session.kos, study!, series!);
    if (!seriesUrl || (sop && !only.has(sop))) return errorResponse(403, new AppError('IMAGING_STREAM_FORBIDDEN', "Cette série ne fait pas partie de l'examen ouvert."));
    const target = { seriesUrl, studyInstanceUid: study!, seriesInstanceUid: series!, kosSopInstanceUid: session.kos.sopInstanceUid };
    const signal = AbortSignal.any([session.abort.signal, ...(request.signal ? [request.signal] : [])]);
    try {
      const key = `${study}/${series}/${sop}`;
      const warm = sop ? session.warm.get(key) : undefined;
      if (warm) session.warm.delete(key);
      const body = sop
        ? await (warm?.catch(() => instanceRecordBody(deps.client, target, sop, signal)) ?? instanceRecordBody(deps.client, target, sop, signal))
        : await seriesRecordStream(deps.client, target, only, signal);
      return new Response(body as BodyInit, { status: 200, headers: { 'content-type': FRAME_STREAM_TYPE, 'cache-control': 'no-store' } });
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('IMAGING_STREAM_FAILED', "Impossible d'obtenir les images.", (err as Error).message);
      return errorResponse(statusOf(e), e);
    }
  }

  return async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.method !== 'GET') return new Response(null, { status: 405 });
    const fm = url.host === 'wado' ? FRAMES_PATH.exec(url.pathname) : null;
    if (fm) return frames(fm, request);
    const m = PATH.exec(url.pathname);
    if (url.host !== 'wado' || !m) return errorResponse(404, new AppError('IMAGING_STREAM_BAD_URL', 'Adresse d’image invalide.'));
    const [, handle, study, series, rest] = m;
    const session = deps.sessions.get(handle!);
    if (!session) return errorResponse(410, new AppError('IMAGING_STREAM_CLOSED', 'Cette visualisation a été fermée.'));
    const seriesUrl = session.series.get(`${study}/${series}`);
    if (!seriesUrl) return errorResponse(403, new AppError('IMAGING_STREAM_FORBIDDEN', "Cette série ne fait pas partie de l'examen ouvert."));
    const upstream = `${seriesUrl}${rest ?? ''}`;
    const isMetadata = (rest ?? '').endsWith('/metadata');
    const accept = isMetadata ? ACCEPT_METADATA : (request.headers.get('accept') ?? ACCEPT_FRAMES);
    const cacheKey = `stream:${study}/${series}${rest ?? ''}|${accept}`;
    const hit = deps.cache?.get(cacheKey);
    if (hit) {
      const meta = deps.cache?.get(`${cacheKey}|type`);
      return new Response(new Uint8Array(hit), { status: 200, headers: { 'content-type': meta?.toString() ?? 'application/octet-stream', 'x-lps-cache': 'hit' } });
    }
    const signal = AbortSignal.any([session.abort.signal, ...(request.signal ? [request.signal] : [])]);
    try {
      const { contentType, body } = await deps.client.request(upstream, { accept, kosSopInstanceUid: session.kos.sopInstanceUid, signal });
      const type = contentType ?? 'application/octet-stream';
      const chunks: Uint8Array[] = [];
      const iterator = body[Symbol.asyncIterator]();
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const { value, done } = await iterator.next();
            if (done) {
              if (deps.cache) {
                deps.cache.put(cacheKey, Buffer.concat(chunks));
                deps.cache.put(`${cacheKey}|type`, Buffer.from(type));
              }
              controller.close();
              return;
            }
            if (deps.cache) chunks.push(value);
            controller.enqueue(value);
          } catch (err) {
            controller.error(err);
          }
        },
        cancel() {
          void iterator.return?.(undefined);
        },
      });
      return new Response(stream, { status: 200, headers: { 'content-type': type, 'x-lps-cache': 'miss' } });
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('IMAGING_STREAM_FAILED', "Impossible d'obtenir l'image.", (err as Error).message);
      return errorResponse(statusOf(e), e);
    }
  };
}
