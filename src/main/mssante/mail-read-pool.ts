import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { readMail, unpackReadMail, type MailSource, type ReadDocumentsPort, type ReadMail } from './message-read';

/**
 * Reads received messages (MIME, XDM, CDA: CPU-bound) on worker threads, so a large sync parses on every core
 * while the main thread keeps fetching from IMAP and committing. Small syncs read inline (a worker costs a
 * start-up). Workers are unref'd and stop after a minute without work; one that dies fails its jobs (the
 * sync then retries, exactly as after an exception while reading inline) and is replaced on the next job.
 */
export interface MailReader {
  read(src: MailSource): Promise<ReadMail>;
}

export function inlineReader(docs: () => ReadDocumentsPort): MailReader {
  return { read: (src) => readMail(src, docs()) };
}

interface Pending {
  resolve: (r: ReadMail) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

const IDLE_MS = 60_000;

/**
 * Where the worker entry is: beside this module when built (out/main), else the TypeScript source run by tsx.
 * `LPS_MAIL_READ_WORKER` names a built worker to run while the main side runs from sources: the benchmark
 * measures the worker the app ships (compiling the sources in each worker costs about 0.3 s of CPU).
 */
function workerEntry(): { file: string; eval: boolean } {
  const override = process.env.LPS_MAIL_READ_WORKER;
  if (override) {
    if (!path.isAbsolute(override) || !fs.existsSync(override)) throw new Error(`LPS_MAIL_READ_WORKER: no built worker at ${override}`);
    return { file: override, eval: false };
  }
  const built = path.join(__dirname, 'mail-read.worker.js');
  if (!__filename.endsWith('.ts') && fs.existsSync(built)) return { file: built, eval: false };
  const source = path.join(__dirname, 'mail-read.worker.ts');
  return { file: `require('tsx/cjs/api').register(); require(${JSON.stringify(source)});`, eval: true };
}

/** Setting: how many reading workers a large sync uses (a number, 0 = read on the main thread); absent = by cores. */
export const SETTING_READ_WORKERS = 'mssante.readWorkers';
const MAX_READ_WORKERS = 8;

/**
 * How many reading workers a large sync uses: one core is left to the main thread (it fetches and commits, about
 * half of a sync's work), so one worker per core but one, at least one (none on a single core), at most 4.
 * Measured on 2 cores, in interleaved runs: one worker read 200 mails 8–17 % faster than the main thread alone, and
 * 1,000 as fast as two workers with about 40 MB less memory; two workers were no faster than the main thread on
 * 50 or 200 mails and cost 30–40 % more CPU (each extra isolate compiles the reading code anew). A configured count
 * (the `mssante.readWorkers` setting) wins, within 0–8 (0 = the main thread); anything else in it is ignored.
 */
export function readWorkerCount(cores: number = os.availableParallelism(), configured?: unknown): number {
  if (typeof configured === 'number' && Number.isFinite(configured)) return Math.max(0, Math.min(MAX_READ_WORKERS, Math.floor(configured)));
  return cores <= 1 ? 0 : Math.max(1, Math.min(4, cores - 1));
}

export class MailReadPool implements MailReader {
  private readonly slots: (Slot | undefined)[];
  private next = 0;
  private seq = 0;
  private idleTimer: NodeJS.Timeout | undefined;

  /** `size` workers (at least one; `readWorkerCount` says how many a sync uses). */
  constructor(readonly size: number) {
    this.slots = new Array<Slot | undefined>(size).fill(undefined);
  }

  /** Whether a message is being read (the pool cannot be replaced without failing it). */
  get busy(): boolean {
    return this.slots.some((s) => !!s && s.pending.size > 0);
  }

  /** Starts every worker now (they boot in parallel with whatever the caller does next). */
  warm(): this {
    for (let i = 0; i < this.size; i++) this.slots[i] ??= this.spawn(i);
    this.touch();
    return this;
  }

  read(src: MailSource): Promise<ReadMail> {
    const i = this.next++ % this.size;
    const slot = (this.slots[i] ??= this.spawn(i));
    const id = ++this.seq;
    const transfer: ArrayBuffer[] = [];
    const copy = (b?: Buffer) => {
      if (!b) return undefined;
      const u = new Uint8Array(b);
      transfer.push(u.buffer);
      return u;
    };
    this.touch();
    return new Promise<ReadMail>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject });
      slot.worker.postMessage({ id, uid: src.uid, size: src.size, raw: copy(src.raw), headersOnly: copy(src.headersOnly) }, transfer);
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.idleTimer);
    await Promise.all(this.slots.map((s, i) => (s ? this.stop(i, new Error('mail reader closed')) : undefined)));
  }

  private spawn(i: number): Slot {
    const entry = workerEntry();
    // A built worker takes none of the process's Node options: under a development loader (tsx) they would route
    // every module the worker loads through it (V8 flags are process-wide and still apply).
    const worker = new Worker(entry.file, { eval: entry.eval, ...(entry.eval ? {} : { execArgv: [] }) });
    worker.unref();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (m: { id: number; ok: boolean; read?: ReadMail; error?: { message: string; code?: string } }) => {
      const p = slot.pending.get(m.id);
      if (!p) return;
      slot.pending.delete(m.id);
      if (m.ok) p.resolve(unpackReadMail(m.read!));
      else p.reject(Object.assign(new Error(m.error?.message ?? 'mail reader failed'), { code: m.error?.code }));
    });
    const fail = (err: Error) => {
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
      if (this.slots[i] === slot) this.slots[i] = undefined;
    };
    worker.on('error', (err) => fail(err));
    worker.on('exit', (code) => fail(new Error(`mail reader worker exited (${code})`)));
    return slot;
  }

  private async stop(i: number, reason: Error): Promise<void> {
    const slot = this.slots[i];
    if (!slot) return;
    this.slots[i] = undefined;
    for (const p of slot.pending.values()) p.reject(reason);
    slot.pending.clear();
    await slot.worker.terminate();
  }

  private touch(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      if (this.slots.every((s) => !s || s.pending.size === 0)) void this.close();
    }, IDLE_MS);
    this.idleTimer.unref();
  }
}
