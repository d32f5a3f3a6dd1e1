import type { DicomwebClient, SeriesTarget } from './dicomweb-client';
import { extractFrames, singlePartFrameResponse } from './frames';

/**
 * Series-level prefetch for the viewer: one WADO-RS series retrieval (a single streamed multipart answer)
 * instead of one request per frame. Frames are kept in memory until the viewer asks for them (each is
 * handed out once: the viewer keeps its decoded images; a later request goes through the normal per-frame
 * path and main's disk cache). A frame asked before it has arrived waits for it while the series streams.
 */

const TAKE_TIMEOUT_MS = 10_000;

interface Arrived {
  bytes: Buffer;
  ts: string;
}

class SeriesBulk {
  readonly frames = new Map<string, Arrived>();
  private readonly waiters = new Map<string, ((a: Arrived | undefined) => void)[]>();
  done = false;
  received = 0;
  readonly abort = new AbortController();

  put(key: string, a: Arrived): void {
    const w = this.waiters.get(key);
    if (w) {
      this.waiters.delete(key);
      for (const fn of w) fn(a);
      return; // handed over directly
    }
    this.frames.set(key, a);
  }

  take(key: string): Promise<Arrived | undefined> {
    const a = this.frames.get(key);
    if (a) {
      this.frames.delete(key);
      return Promise.resolve(a);
    }
    if (this.done) return Promise.resolve(undefined);
    // Never wait forever (a frame already handed to an aborted request, a stalled stream): after a while the
    // request takes the normal per-frame path.
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const list = this.waiters.get(key)?.filter((fn) => fn !== done) ?? [];
        if (list.length) this.waiters.set(key, list);
        else this.waiters.delete(key);
        resolve(undefined);
      }, TAKE_TIMEOUT_MS);
      const done = (a: Arrived | undefined) => {
        clearTimeout(timer);
        resolve(a);
      };
      this.waiters.set(key, [...(this.waiters.get(key) ?? []), done]);
    });
  }

  finish(): void {
    this.done = true;
    for (const [, w] of this.waiters) for (const fn of w) fn(undefined);
    this.waiters.clear();
  }

  stop(): void {
    this.abort.abort();
    this.frames.clear();
    this.finish();
  }
}

const FRAME_PATH = /^\/([A-Za-z0-9_-]{10,64})\/studies\/([0-9.]+)\/series\/([0-9.]+)\/instances\/([0-9.]+)\/frames\/([0-9]+)$/;

export class SeriesBulkLoader {
  private readonly bulks = new Map<string, SeriesBulk>();

  constructor(
    private readonly client: DicomwebClient,
    private readonly storeSeries = false,
  ) {}

  /** Starts (or keeps) the retrieval of one series for a session; other series of the session are stopped. */
  start(handle: string, target: SeriesTarget, only: Set<string>, sessionSignal: AbortSignal): { started: boolean } {
    const key = `${handle}/${target.studyInstanceUid}/${target.seriesInstanceUid}`;
    if (this.bulks.has(key)) return { started: false };
    for (const [k, b] of this.bulks) if (k.startsWith(`${handle}/`)) {
      b.stop();
      this.bulks.delete(k);
    }
    const bulk = new SeriesBulk();
    this.bulks.set(key, bulk);
    const signal = AbortSignal.any([sessionSignal, bulk.abort.signal]);
    sessionSignal.addEventListener('abort', () => this.drop(key, bulk), { once: true });
    // Disk-cache writes (encryption + file per instance) are deferred until the series has streamed in.
    const toStore: { sop: string; bytes: Buffer }[] = [];
    const t0 = performance.now();
    void (async () => {
      try {
        for await (const inst of this.client.retrieveSeries(target, { only, signal, store: false })) {
          if (!inst.fromCache && this.storeSeries) toStore.push({ sop: inst.sopInstanceUid, bytes: inst.bytes });
          let frames;
          try {
            frames = extractFrames(inst.bytes);
          } catch {
            continue; // left to the per-frame path
          }
          frames.frames.forEach((bytes, i) => bulk.put(`${inst.sopInstanceUid}/${i + 1}`, { bytes, ts: frames.transferSyntaxUid }));
          bulk.received++;
        }
      } catch {
        /* cancelled or failed: waiting requests fall back to the per-frame path */
      } finally {
        if (process.env.LPS_IMAGING_DEBUG) console.error(`[imaging] series ${target.seriesInstanceUid.slice(-6)}: ${bulk.received} instances in ${(performance.now() - t0).toFixed(0)} ms`);
        bulk.finish();
        for (const item of toStore) {
          if (signal.aborted) break;
          await new Promise((r) => setImmediate(r));
          try {
            this.client.storeInstance(target, item.sop, item.bytes);
          } catch {
            /* the cache is best effort */
          }
        }
        toStore.length = 0;
        // Frames nobody asked for are dropped a little later (the viewer may still be asking).
        setTimeout(() => this.drop(key, bulk), 60_000).unref?.();
      }
    })();
    return { started: true };
  }

  private drop(key: string, bulk: SeriesBulk): void {
    if (this.bulks.get(key) === bulk) this.bulks.delete(key);
    bulk.stop();
  }

  /** Serves a frame request from a running series retrieval; undefined when it cannot (use the normal path). */
  async tryServe(request: Request): Promise<Response | undefined> {
    if (request.method !== 'GET') return undefined;
    const url = new URL(request.url);
    const m = url.host === 'wado' ? FRAME_PATH.exec(url.pathname) : null;
    if (!m) return undefined;
    const [, handle, study, series, sop, frame] = m;
    const bulk = this.bulks.get(`${handle}/${study}/${series}`);
    if (!bulk) return undefined;
    const a = await bulk.take(`${sop}/${frame}`);
    return a ? singlePartFrameResponse(a.bytes, a.ts, { 'x-lps-cache': 'series' }) : undefined;
  }

  stopAll(): void {
    for (const [k, b] of this.bulks) this.drop(k, b);
  }
}
