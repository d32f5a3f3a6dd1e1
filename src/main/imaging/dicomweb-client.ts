import { AppError } from '../core/errors';
import { T } from './dicom/constants';
import { parseDicom, type ParsedDicom } from './dicom/parser';
import type { DiskCache } from './disk-cache';
import type { KosManifest, KosSeries, KosStudy } from './kos';
import { streamingGet } from './http-get';
import { multipartBoundary, readMultipart } from './multipart';

/**
 * DICOMweb (WADO-RS / QIDO-RS) from the main process, as a DRIMbox-facing consumer (seed 002, flux 9/10):
 * PSC bearer token, `KOS-SOPInstanceUID` header, explicit Accept parameters, streaming, timeouts,
 * cancellation, and an on-disk cache. Tokens never leave this module (not logged, not returned).
 */

/** Accept for instances as stored (no server-side transcoding: Orthanc cannot transcode J2K, and it costs time). */
export const ACCEPT_INSTANCES = 'multipart/related; type="application/dicom"; transfer-syntax=*';
export const ACCEPT_METADATA = 'application/dicom+json';
export const ACCEPT_FRAMES = 'multipart/related; type="application/octet-stream"; transfer-syntax=*';

export interface DicomwebClientOptions {
  /** The PSC access token (or undefined when none: the server will answer 401). */
  getToken: () => Promise<string | undefined> | string | undefined;
  /** No answer, or no byte while streaming, for this long → IMAGING_DICOMWEB_TIMEOUT. Default 20 s. */
  timeoutMs?: number;
  cache?: DiskCache;
  /**
   * Trust store (PEM) for an https PACS, or where to read it at each request (the Settings may change); the
   * platform's roots when absent. Verification is always on.
   */
  ca?: string | string[] | (() => string | string[] | undefined);
  /** A WHATWG fetch to use instead of node:http(s) (tests that observe the requests). */
  fetch?: typeof fetch;
}

export interface SeriesTarget {
  /** WADO-RS series URL from the KOS (…/studies/{study}/series/{series}). */
  seriesUrl: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  /** The KOS that grants access (sent as KOS-SOPInstanceUID). */
  kosSopInstanceUid: string;
}

export interface RetrievedInstance {
  sopInstanceUid: string;
  /** DICOM Part 10 bytes. */
  bytes: Buffer;
  fromCache: boolean;
  /** The parsed instance, when the retrieval had to parse it anyway (network answers). */
  parsed?: ParsedDicom;
}

function cancelled(): AppError {
  return new AppError('IMAGING_CANCELLED', 'Le téléchargement des images a été annulé.', 'aborted by the caller');
}

export function httpError(status: number, url: string, body: string): AppError {
  const where = new URL(url).host;
  const detail = `HTTP ${status} from ${where}: ${body.replace(/\s+/g, ' ').slice(0, 200)}`;
  if (status === 401 || status === 403)
    return new AppError(
      'IMAGING_DICOMWEB_UNAUTHORIZED',
      "Le serveur d'images a refusé l'accès : votre session Pro Santé Connect a peut-être expiré. Reconnectez-vous puis réessayez.",
      detail,
    );
  if (status === 404)
    return new AppError('IMAGING_DICOMWEB_NOT_FOUND', "Les images demandées sont introuvables sur le serveur d'images (examen supprimé ou déplacé).", detail);
  if (status === 400 || status === 406)
    return new AppError('IMAGING_DICOMWEB_REJECTED', "Le serveur d'images a refusé la demande telle qu'elle était formulée.", detail);
  return new AppError('IMAGING_DICOMWEB_SERVER_ERROR', "Le serveur d'images a rencontré une erreur. Réessayez plus tard.", detail);
}

/** Reads the SOP Instance UID of a Part 10 file (meta first, dataset otherwise). */
export function sopInstanceUidOf(bytes: Buffer): string | undefined {
  const p = parseDicom(bytes);
  return p.meta?.string(T.MediaStorageSopInstanceUid) ?? p.dataset.string(T.SopInstanceUid);
}

export class DicomwebClient {
  private readonly timeoutMs: number;
  constructor(private readonly opts: DicomwebClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 20_000;
  }

  /**
   * One GET with the right headers; resolves once the headers are in. The returned `watch` wraps the body
   * so that a stall longer than the timeout aborts it, and `done` releases the timer.
   */
  async request(
    url: string,
    init: { accept: string; kosSopInstanceUid?: string; signal?: AbortSignal },
  ): Promise<{ contentType: string | null; body: AsyncIterable<Uint8Array>; done: () => void }> {
    if (init.signal?.aborted) throw cancelled();
    const ctrl = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        ctrl.abort();
      }, this.timeoutMs);
    };
    const onAbort = () => ctrl.abort();
    init.signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      init.signal?.removeEventListener('abort', onAbort);
    };
    const mapError = (err: unknown): AppError => {
      if (err instanceof AppError) return err;
      if (timedOut)
        return new AppError(
          'IMAGING_DICOMWEB_TIMEOUT',
          "Le serveur d'images ne répond pas (délai dépassé). Vérifiez la connexion puis réessayez.",
          `no data for ${this.timeoutMs} ms from ${new URL(url).host}`,
        );
      if (init.signal?.aborted) return cancelled();
      const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
      return new AppError(
        'IMAGING_DICOMWEB_UNREACHABLE',
        "Le serveur d'images est injoignable. Vérifiez la connexion réseau puis réessayez.",
        `${new URL(url).host}: ${code ?? (err as Error).message}`,
      );
    };
    const token = await this.opts.getToken();
    const headers: Record<string, string> = { accept: init.accept };
    if (token) headers.authorization = `Bearer ${token}`;
    if (init.kosSopInstanceUid) headers['kos-sopinstanceuid'] = init.kosSopInstanceUid;
    arm();
    let res: { status: number; contentType: string | null; body: AsyncIterable<Uint8Array> | null; text(): Promise<string> };
    try {
      if (this.opts.fetch) {
        const r = await this.opts.fetch(url, { headers, signal: ctrl.signal });
        res = { status: r.status, contentType: r.headers.get('content-type'), body: r.body as unknown as AsyncIterable<Uint8Array> | null, text: () => r.text() };
      } else {
        const ca = typeof this.opts.ca === 'function' ? this.opts.ca() : this.opts.ca;
        res = await streamingGet(url, { headers, signal: ctrl.signal, ca });
      }
    } catch (err) {
      done();
      throw mapError(err);
    }
    if (res.status < 200 || res.status > 299) {
      const text = await res.text().catch(() => '');
      done();
      throw httpError(res.status, url, text);
    }
    const stream = res.body;
    const body = (async function* (this: void) {
      if (!stream) return;
      try {
        for await (const chunk of stream) {
          arm();
          yield chunk;
        }
      } catch (err) {
        throw mapError(err);
      } finally {
        done();
      }
    })();
    return { contentType: res.contentType, body, done };
  }

  private cacheKey(t: { studyInstanceUid: string; seriesInstanceUid: string }, sop: string): string {
    return `instance:${t.studyInstanceUid}/${t.seriesInstanceUid}/${sop}`;
  }

  /**
   * Streams the instances of a series (WADO-RS), yielding each as soon as it has arrived. With `only`,
   * instances outside that set are skipped; instances already cached are served from the cache, and when
   * every wanted instance is cached no request is made.
   */
  async *retrieveSeries(t: SeriesTarget, opts: { only?: Set<string>; signal?: AbortSignal; store?: boolean } = {}): AsyncGenerator<RetrievedInstance> {
    const cache = this.opts.cache;
    if (cache && opts.only) {
      const cached = [...opts.only].map((sop) => [sop, cache.get(this.cacheKey(t, sop))] as const);
      if (cached.every(([, b]) => b)) {
        for (const [sop, b] of cached) yield { sopInstanceUid: sop, bytes: b!, fromCache: true };
        return;
      }
    }
    const { contentType, body, done } = await this.request(t.seriesUrl, { accept: ACCEPT_INSTANCES, kosSopInstanceUid: t.kosSopInstanceUid, signal: opts.signal });
    const boundary = multipartBoundary(contentType);
    if (!boundary) {
      done();
      throw new AppError('IMAGING_DICOMWEB_BAD_RESPONSE', "La réponse du serveur d'images est mal formée.", `content-type ${contentType}`);
    }
    for await (const part of readMultipart(body, boundary)) {
      const parsed = parseDicom(part.body);
      const sop = parsed.meta?.string(T.MediaStorageSopInstanceUid) ?? parsed.dataset.string(T.SopInstanceUid);
      if (!sop) continue;
      if (opts.only && !opts.only.has(sop)) continue;
      if (opts.store !== false) cache?.put(this.cacheKey(t, sop), part.body);
      yield { sopInstanceUid: sop, bytes: part.body, fromCache: false, parsed };
    }
  }

  /** Stores an instance retrieved with `store: false` (callers that defer the disk writes off the hot path). */
  storeInstance(t: { studyInstanceUid: string; seriesInstanceUid: string }, sopInstanceUid: string, bytes: Buffer): void {
    this.opts.cache?.put(this.cacheKey(t, sopInstanceUid), bytes);
  }

  /** One instance (WADO-RS instance URL), from the cache when present. */
  async retrieveInstance(t: SeriesTarget, sopInstanceUid: string, signal?: AbortSignal): Promise<RetrievedInstance> {
    const hit = this.opts.cache?.get(this.cacheKey(t, sopInstanceUid));
    if (hit) return { sopInstanceUid, bytes: hit, fromCache: true };
    for await (const inst of this.retrieveSeries({ ...t, seriesUrl: `${t.seriesUrl}/instances/${sopInstanceUid}` }, { signal })) {
      if (inst.sopInstanceUid === sopInstanceUid) return inst;
    }
    throw new AppError('IMAGING_DICOMWEB_NOT_FOUND', "L'image demandée est introuvable sur le serveur d'images.", `instance ${sopInstanceUid} not in the response`);
  }

  /** Warms the cache with a whole series (the one the user opened); resolves with the instance count. */
  async prefetchSeries(t: SeriesTarget, opts: { only?: Set<string>; signal?: AbortSignal } = {}): Promise<number> {
    let n = 0;
    for await (const _ of this.retrieveSeries(t, opts)) n++;
    return n;
  }

  /** Series metadata (WADO-RS `…/metadata`, DICOM JSON), cached. */
  async seriesMetadata(t: SeriesTarget, signal?: AbortSignal): Promise<Record<string, { vr: string; Value?: unknown[] }>[]> {
    const key = `metadata:${t.studyInstanceUid}/${t.seriesInstanceUid}`;
    const hit = this.opts.cache?.get(key);
    if (hit) return JSON.parse(hit.toString('utf8'));
    const { body } = await this.request(`${t.seriesUrl}/metadata`, { accept: ACCEPT_METADATA, kosSopInstanceUid: t.kosSopInstanceUid, signal });
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(Buffer.from(c));
    const buf = Buffer.concat(chunks);
    let json: unknown;
    try {
      json = JSON.parse(buf.toString('utf8'));
    } catch {
      throw new AppError('IMAGING_DICOMWEB_BAD_RESPONSE', "La réponse du serveur d'images est mal formée.", 'metadata is not JSON');
    }
    if (!Array.isArray(json)) throw new AppError('IMAGING_DICOMWEB_BAD_RESPONSE', "La réponse du serveur d'images est mal formée.", 'metadata is not an array');
    this.opts.cache?.put(key, buf);
    return json as Record<string, { vr: string; Value?: unknown[] }>[];
  }

  /** QIDO-RS study search (`/studies?…`). */
  async searchStudies(dicomwebRoot: string, query: Record<string, string>, signal?: AbortSignal): Promise<Record<string, { vr: string; Value?: unknown[] }>[]> {
    const url = `${dicomwebRoot.replace(/\/+$/, '')}/studies?${new URLSearchParams(query).toString()}`;
    const { body } = await this.request(url, { accept: ACCEPT_METADATA, signal });
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(Buffer.from(c));
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? (JSON.parse(text) as Record<string, { vr: string; Value?: unknown[] }>[]) : [];
  }
}

/** The series of a KOS as retrieval targets (series without a WADO-RS URL are returned apart). */
export function kosTargets(
  kos: KosManifest,
  opts: { dicomwebRootOverride?: string } = {},
): { targets: { study: KosStudy; series: KosSeries; target: SeriesTarget }[]; unreachable: KosSeries[] } {
  const targets: { study: KosStudy; series: KosSeries; target: SeriesTarget }[] = [];
  const unreachable: KosSeries[] = [];
  for (const study of kos.studies) {
    for (const series of study.series) {
      const root = opts.dicomwebRootOverride?.replace(/\/+$/, '');
      const seriesUrl = root ? `${root}/studies/${study.studyInstanceUid}/series/${series.seriesInstanceUid}` : series.retrieve.seriesUrl;
      if (!seriesUrl) {
        unreachable.push(series);
        continue;
      }
      targets.push({
        study,
        series,
        target: { seriesUrl, studyInstanceUid: study.studyInstanceUid, seriesInstanceUid: series.seriesInstanceUid, kosSopInstanceUid: kos.sopInstanceUid },
      });
    }
  }
  return { targets, unreachable };
}
