/**
 * The viewer's bulk image path for KOS sessions: main retrieves a whole series from the PACS in one WADO-RS
 * request and re-sends it on the `lps-imaging` scheme as instance records (metadata as DICOM JSON + the frames,
 * see src/main/imaging/frame-stream.ts). Here the records are read incrementally, each instance's metadata is
 * registered with the WADO image loader and its frames are kept until cornerstone asks for them: the loader's
 * `wadors` scheme is wrapped so that an image id of a session series is created from its record (decoded by our
 * worker pool) instead of one HTTP request per frame. An image asked before its record has arrived waits for
 * it while its series streams; one whose series is not streaming (thumbnail, scroll ahead of the stream, image
 * evicted from the cache) is fetched on its own — one instance, one record — never through `…/metadata`.
 */
import { cornerstone, loader } from './cornerstone';
import { previewLevel } from './j2k';
import { readRecords, type InstanceRecord } from './record-reader';

export type { InstanceRecord };

const FRAME_ID = /^wadors:(.*\/series\/[0-9.]+)\/instances\/([0-9.]+)\/frames\/([0-9]+)$/;

/**
 * Decodes in flight are bounded (enough to keep every worker busy) and the rest wait here, per series: leaving a
 * series drops its waiting decodes, so the next series' first image is not queued behind them in the workers.
 */
class DecodeGate {
  private running = 0;
  private queue: { base: string; go: () => void; fail: (e: Error) => void }[] = [];
  readonly limit = Math.max(2, 2 * Math.min(4, navigator.hardwareConcurrency || 2));

  /** `ahead`: before the decodes already waiting (a thumbnail, not to wait for a whole series' decodes). */
  acquire(base: string, ahead = false): Promise<void> {
    if (this.running < this.limit) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((go, fail) => (ahead ? this.queue.unshift({ base, go, fail }) : this.queue.push({ base, go, fail })));
  }

  release(): void {
    const next = this.queue.shift();
    if (next) next.go();
    else this.running--;
  }

  drop(base: string): void {
    const e = new Error('Chargement annulé.');
    this.queue = this.queue.filter((q) => q.base !== base || (q.fail(e), false));
  }
}

const gate = new DecodeGate();

/** Image-load option (`cornerstone.loadAndCacheImage(id, { [AHEAD]: true })`): decode ahead of those waiting. */
export const AHEAD = 'lpsAhead';

interface Waiter {
  resolve(r: InstanceRecord | undefined): void;
  reject(e: Error): void;
}

class SeriesState {
  /** instance URL → record */
  readonly records = new Map<string, InstanceRecord>();
  readonly waiters = new Map<string, Waiter[]>();
  readonly singles = new Map<string, Promise<InstanceRecord>>();
  streaming: AbortController | undefined;
  listeners = new Set<(r: InstanceRecord) => void>();
}

/** Instance URL of a series: `<series base>/instances/<sop>`; image id of frame n: `wadors:<instance URL>/frames/n`. */
export const instanceUrl = (seriesBase: string, sop: string) => `${seriesBase}/instances/${sop}`;
export const frameImageId = (seriesBase: string, sop: string, frame = 1) => `wadors:${instanceUrl(seriesBase, sop)}/frames/${frame}`;

class FrameStore {
  private readonly series = new Map<string, SeriesState>();

  /** Declares a session series: its image ids are served from records from now on. */
  register(seriesBase: string): void {
    if (!this.series.has(seriesBase)) this.series.set(seriesBase, new SeriesState());
  }

  /** Forgets a session's series (viewer closed): records dropped, streams aborted. */
  forget(prefix: string): void {
    for (const [base, s] of this.series)
      if (base.startsWith(prefix)) {
        s.streaming?.abort();
        gate.drop(base);
        this.series.delete(base);
      }
  }

  handles(seriesBase: string): boolean {
    return this.series.has(seriesBase);
  }

  /** Called for each record of a series as it arrives (series browser, ordering). */
  onRecord(seriesBase: string, fn: (r: InstanceRecord) => void): () => void {
    const s = this.series.get(seriesBase);
    s?.listeners.add(fn);
    return () => s?.listeners.delete(fn);
  }

  record(seriesBase: string, sop: string): InstanceRecord | undefined {
    return this.series.get(seriesBase)?.records.get(sop);
  }

  private put(seriesBase: string, s: SeriesState, r: InstanceRecord): void {
    if (s.records.has(r.sop)) return; // already here (its own request raced the series stream)
    for (let f = 1; f <= r.frameCount; f++) loader.wadors.metaDataManager.add(frameImageId(seriesBase, r.sop, f), r.metadata);
    s.records.set(r.sop, r);
    const w = s.waiters.get(r.sop);
    s.waiters.delete(r.sop);
    for (const x of w ?? []) x.resolve(r);
    for (const fn of s.listeners) fn(r);
  }

  /**
   * Streams a whole series (once at a time per series). Resolves when the stream ends; images still waiting for
   * an instance that did not come are then fetched on their own. Aborting rejects the waiting images.
   */
  async stream(seriesBase: string, signal?: AbortSignal): Promise<void> {
    const s = this.series.get(seriesBase);
    if (!s || s.streaming) return;
    const ctrl = new AbortController();
    s.streaming = ctrl;
    const onAbort = () => ctrl.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await readRecords(`${seriesBase}/lps-frames`, (r) => this.put(seriesBase, s, r), ctrl.signal);
    } catch (err) {
      if (ctrl.signal.aborted) {
        const e = new Error('Chargement annulé.');
        for (const [, w] of s.waiters) for (const x of w) x.reject(e);
        s.waiters.clear();
        return;
      }
      void err; // a failed stream: the images still wanted are fetched one by one
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (s.streaming === ctrl) s.streaming = undefined;
    }
    for (const [sop, w] of [...s.waiters]) {
      s.waiters.delete(sop);
      this.single(seriesBase, s, sop).then(
        (r) => w.forEach((x) => x.resolve(r)),
        (e: Error) => w.forEach((x) => x.reject(e)),
      );
    }
  }

  private single(seriesBase: string, s: SeriesState, sop: string): Promise<InstanceRecord> {
    let p = s.singles.get(sop);
    if (!p) {
      let got: InstanceRecord | undefined;
      p = readRecords(`${instanceUrl(seriesBase, sop)}/lps-frames`, (r) => {
        got = r;
        this.put(seriesBase, s, r);
      })
        .then(() => {
          if (!got) throw new Error('Image absente de la réponse du serveur.');
          return s.records.get(sop) ?? got;
        })
        .finally(() => s.singles.delete(sop));
      s.singles.set(sop, p);
    }
    return p;
  }

  /** The record of an instance: arrived, arriving with its series stream, or fetched on its own. */
  instance(seriesBase: string, sop: string, needFrame?: number): Promise<InstanceRecord> {
    const s = this.series.get(seriesBase);
    if (!s) return Promise.reject(new Error('Série inconnue.'));
    const have = s.records.get(sop);
    if (have && (needFrame === undefined || have.frames[needFrame - 1])) return Promise.resolve(have);
    if (have) {
      // Its frame was already decoded once (image evicted from the cache since): fetch it again.
      s.records.delete(sop);
      return this.single(seriesBase, s, sop);
    }
    if (s.streaming) {
      return new Promise<InstanceRecord | undefined>((resolve, reject) => s.waiters.set(sop, [...(s.waiters.get(sop) ?? []), { resolve, reject }])).then(
        (r) => r ?? this.single(seriesBase, s, sop),
      );
    }
    return this.single(seriesBase, s, sop);
  }

  /** Stops loading a series (the viewer left it): its stream is aborted, its waiting decodes dropped. */
  cancel(seriesBase: string): void {
    const s = this.series.get(seriesBase);
    s?.streaming?.abort();
    gate.drop(seriesBase);
    // Frames received but not decoded would stay in memory until the exam is closed (a 300-slice CT is 150 MB):
    // their records go; a later visit streams them again (an image being decoded right now refetches its own).
    if (s) for (const [sop, r] of s.records) if (r.frames.some(Boolean)) s.records.delete(sop);
  }

  /** Hands over a frame's bytes (once: they are transferred to a decoder). */
  takeFrame(seriesBase: string, sop: string, frame: number): ArrayBuffer | undefined {
    const r = this.series.get(seriesBase)?.records.get(sop);
    const b = r?.frames[frame - 1];
    if (r && b) r.frames[frame - 1] = undefined;
    return b;
  }
}

export const frameStore = new FrameStore();

/** Transfer syntaxes whose first image is shown progressively (reduced resolution first). */
export const PROGRESSIVE_SYNTAXES = new Set(['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91']);

/** A cornerstone image decoded at reduced resolution (shown until the full one is in; never cached). */
export type ReducedImage = { imageId: string; lpsReduced: number };

/** A preview's outcome: the reduced image, or why there is none. */
export type PreviewOutcome = { image: ReducedImage } | { none: string };

const previews = new Map<string, (outcome: PreviewOutcome) => void>();

/**
 * Progressive first image: asks for a reduced-resolution decode of `imageId` (JPEG 2000 only) ahead of its full
 * decode, which starts once the preview is decoded. Call right before `cornerstone.loadAndCacheImage(imageId)`.
 * Resolves with an image of the real geometry (rows, columns, metadata: pixel spacing, window…) whose pixels are
 * the reduced decode upsampled, not in cornerstone's cache; or why there is none (other syntax, colour, decode
 * failure, `dropPreview`). The full image must replace it: the caller keeps measurements off while it is shown.
 */
export function requestPreview(imageId: string): Promise<PreviewOutcome> {
  previews.get(imageId)?.({ none: 'replaced' });
  return new Promise((resolve) => previews.set(imageId, resolve));
}

/** No preview wanted any more (the full image is in, or the series was left). */
export function dropPreview(imageId: string): void {
  previews.get(imageId)?.({ none: 'dropped' });
  previews.delete(imageId);
}

let installed = false;

/** Routes the `wadors:` image ids of session series through the frame store (once per page). */
export function installFrameLoader(): void {
  if (installed) return;
  installed = true;
  const original = loader.wadors.loadImage as (imageId: string, options?: object) => { promise: Promise<unknown>; cancelFn?: () => void };
  cornerstone.registerImageLoader('wadors', ((imageId: string, options?: object) => {
    const m = FRAME_ID.exec(imageId);
    if (!m || !frameStore.handles(m[1]!)) return original(imageId, options);
    const [, base, sop, f] = m;
    const frame = Number(f);
    const promise = (async () => {
      for (let attempt = 0; attempt < 2; attempt++) {
        const r = await frameStore.instance(base!, sop!, frame);
        if (frame > r.frameCount) throw new Error(`Trame ${frame} absente de l'image.`);
        await gate.acquire(base!, !!(options as Record<string, unknown> | undefined)?.[AHEAD]);
        try {
          const bytes = frameStore.takeFrame(base!, sop!, frame);
          if (!bytes) continue; // taken meanwhile by another request for the same image: fetch it again
          const preview = previews.get(imageId);
          let previewDecoded: Promise<unknown> | undefined;
          if (preview) {
            previews.delete(imageId);
            const attr = (tag: string, dflt: number) => Number((r.metadata[tag]?.Value?.[0] as number | undefined) ?? dflt);
            const grey = attr('00280002', 1) === 1;
            const level = previewLevel(attr('00280010', 0), attr('00280011', 0));
            if (PROGRESSIVE_SYNTAXES.has(r.ts) && grey) {
              // A copy: the full decode below transfers the original bytes to its worker.
              previewDecoded = (loader.createImage(imageId, new Uint8Array(bytes.slice(0)), r.ts, { ...(options ?? {}), reduce: level }) as Promise<object>).then(
                (image) => preview({ image: Object.assign(image, { lpsReduced: level }) as ReducedImage }),
                (e: unknown) => preview({ none: `failed: ${e instanceof Error ? e.message : String(e)}` }),
              );
            } else preview({ none: grey ? 'syntax' : 'colour' });
          }
          // The full decode starts once the preview is decoded: run side by side, they shared the cores and the
          // full one could finish first (a worker busy with a thumbnail, codec start-up), leaving nothing to preview.
          await previewDecoded;
          const started = performance.now();
          const image = (await loader.createImage(imageId, new Uint8Array(bytes), r.ts, options ?? {})) as { loadTimeInMS?: number };
          image.loadTimeInMS = performance.now() - started;
          return image;
        } finally {
          gate.release();
        }
      }
      throw new Error("L'image n'a pas pu être obtenue.");
    })();
    return { promise, cancelFn: undefined };
  }) as never);
}
