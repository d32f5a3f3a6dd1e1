/**
 * Viewer stack set-up (once per page): cornerstone-core + cornerstone-tools + cornerstone-wado-image-loader
 * wired together, with the loader's frame decoding routed to our own worker pool (decode.worker.ts) whose
 * codecs run under the strict CSP. Images come through the `lps-imaging` stream (main holds the token).
 */
import cornerstone from 'cornerstone-core';
import cornerstoneMath from 'cornerstone-math';
import cornerstoneTools from 'cornerstone-tools';
import loader from 'cornerstone-wado-image-loader/dist/dynamic-import/cornerstoneWADOImageLoader.min.js';
import dicomParser from 'dicom-parser';
import Hammer from 'hammerjs';
import { NATIVE_LE_SYNTAXES, nativeFrame, type DecodeRequest, type ImageFrame } from './frame-pixels';

export { cornerstone, cornerstoneTools, dicomParser, loader };

interface Pending {
  resolve(f: ImageFrame): void;
  reject(e: Error): void;
}

/**
 * Decode statistics (benchmark and progress display); `reduced`: progressive previews, not counted as frames;
 * `byWorker`: frames per worker (native frames are made ready on the page, counted in `frames` only).
 */
export const decodeStats = { frames: 0, totalMs: 0, byWorker: [] as number[], reduced: 0 };

class DecodePool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly pending = new Map<number, Pending>();
  private next = 1;

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(new URL('./decode.worker.ts', import.meta.url), { type: 'module', name: `lps-decode-${i}` });
      const slot = { worker, busy: 0 };
      worker.onmessage = (e: MessageEvent<{ id: number; ok: boolean; result?: ImageFrame; error?: string }>) => {
        slot.busy--;
        const p = this.pending.get(e.data.id);
        this.pending.delete(e.data.id);
        if (!p) return;
        if (e.data.ok && e.data.result) {
          if (e.data.result.reduced) decodeStats.reduced++;
          else {
            decodeStats.frames++;
            decodeStats.totalMs += e.data.result.decodeTimeInMS ?? 0;
            decodeStats.byWorker[i] = (decodeStats.byWorker[i] ?? 0) + 1;
          }
          p.resolve(e.data.result);
        } else p.reject(new Error(e.data.error ?? 'échec du décodage'));
      };
      worker.onerror = (e) => {
        // A worker that fails to start: fail its pending frames with the reason.
        for (const [id, p] of this.pending) {
          p.reject(new Error(`décodeur indisponible : ${e.message}`));
          this.pending.delete(id);
        }
      };
      this.workers.push(slot);
    }
  }

  /** Has every worker compile its codecs now (idle time), not on the first compressed frame. */
  warm(): void {
    for (const w of this.workers) w.worker.postMessage({ warm: true });
  }

  decode(data: { imageFrame: ImageFrame; transferSyntax: string; pixelData: Uint8Array; options?: DecodeRequest['options'] }): Promise<ImageFrame> {
    const options = data.options && { preScale: data.options.preScale, ...(data.options.reduce ? { reduce: data.options.reduce } : {}) };
    if (NATIVE_LE_SYNTAXES.has(data.transferSyntax) && !options?.reduce) {
      // Nothing to decode: the samples are made ready here (a worker round trip cost more than that work).
      const { pixelData: _pd, ...imageFrame } = data.imageFrame;
      try {
        const f = nativeFrame(imageFrame as ImageFrame, data.pixelData, options);
        decodeStats.frames++;
        decodeStats.totalMs += f.decodeTimeInMS ?? 0;
        return Promise.resolve(f);
      } catch (e) {
        return Promise.reject(e instanceof Error ? e : new Error(String(e)));
      }
    }
    const slot = this.workers.reduce((a, b) => (b.busy < a.busy ? b : a));
    const id = this.next++;
    // The frame bytes are transferred (not cloned) to the worker: as they are when they fill their buffer
    // (single-part answers), else a compact copy (a part of a multipart answer).
    const whole = data.pixelData.byteOffset === 0 && data.pixelData.byteLength === data.pixelData.buffer.byteLength;
    const bytes = whole ? data.pixelData : data.pixelData.slice();
    const { pixelData: _pd, ...imageFrame } = data.imageFrame;
    const msg: DecodeRequest = { id, transferSyntax: data.transferSyntax, imageFrame: imageFrame as ImageFrame, pixelData: bytes.buffer as ArrayBuffer, options };
    return new Promise<ImageFrame>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      slot.busy++;
      slot.worker.postMessage(msg, [msg.pixelData]);
    });
  }
}

let initialized = false;
let pool: DecodePool | undefined;

/** Starts the viewer stack and has the decoders compile their codecs (call when imaging is about to be used). */
export function warmViewer(): void {
  initCornerstone();
  pool?.warm();
}

export function initCornerstone(): void {
  if (initialized) return;
  initialized = true;
  loader.external.cornerstone = cornerstone;
  loader.external.dicomParser = dicomParser;
  cornerstoneTools.external.cornerstone = cornerstone;
  cornerstoneTools.external.cornerstoneMath = cornerstoneMath;
  cornerstoneTools.external.Hammer = Hammer;
  cornerstoneTools.init({ showSVGCursors: false, globalToolSyncEnabled: false });
  loader.configure({ decodeConfig: { convertFloatPixelDataToInt: false } });
  const size = Math.max(1, Math.min(4, (navigator.hardwareConcurrency || 2) - 0));
  const decoders = new DecodePool(size);
  pool = decoders;
  // The loader hands every frame to its web worker manager: send them to our pool instead (its own worker
  // bundles codec builds that need `eval`, which the page's CSP forbids).
  let taskId = 0;
  loader.webWorkerManager.addTask = (type: string, data: { imageFrame: ImageFrame; transferSyntax: string; pixelData: Uint8Array; options?: DecodeRequest['options'] }) => {
    if (type !== 'decodeTask') return { taskId: ++taskId, promise: Promise.reject(new Error(`tâche inconnue : ${type}`)) };
    return { taskId: ++taskId, promise: decoders.decode(data) };
  };
  loader.webWorkerManager.initialize = () => {};
  cornerstone.imageCache.setMaximumSizeBytes(1536 * 1024 * 1024);
}

/** DICOM JSON attribute → first value. */
export function jsonValue(instance: Record<string, { Value?: unknown[] }>, tag: string): unknown {
  return instance[tag]?.Value?.[0];
}

export function jsonString(instance: Record<string, { Value?: unknown[] }>, tag: string): string | undefined {
  const v = jsonValue(instance, tag);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object' && v && 'Alphabetic' in v) return String((v as { Alphabetic: string }).Alphabetic);
  return String(v);
}
