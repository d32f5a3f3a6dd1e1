/**
 * MSSanté reception benchmark: sync + integrate 1,000 XDM document mails from a real Dovecot (private
 * instance on free loopback ports, applicative mailbox with a TLS client certificate), against the floor
 * measured in the same run on the same messages: a raw imapflow FETCH of every message source over the
 * same kind of session. Figure: sync time / raw FETCH time (target ≤ 1.5×), the median of LPS_BENCH_MAIL_RUNS runs
 * (default 3), each sync in a fresh process (a cold start, like the app's first sync) against a baseline taken
 * right before it; and the app's peak RSS. Beside it, the storage floor: the same FETCH and the encrypted, durable
 * storage and keywords without any reading, to show how much of the ratio reading accounts for. Each phase also
 * reports the machine's busy cores (every process, from /proc/stat): when the raw FETCH alone already keeps the
 * cores busy, a sync cannot take less wall time than its CPU over the cores, and each run prints that bound.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import MailComposer from 'nodemailer/lib/mail-composer';
import { buildCda, loadCdaRequest, readXdm, writeXdm } from '../src/main/documents';
import { createCore } from '../src/main/handlers';
import { tlsOptions, type MailAccountConfig } from '../src/main/mssante/accounts';
import { readWorkerCount, SETTING_READ_WORKERS } from '../src/main/mssante/mail-read-pool';
import { removeSpoolCompanion, startMailServers } from '../src/main/mssante/mail-servers';
import { newMessageId } from '../src/main/mssante/message-build';
import { readMime } from '../src/main/mssante/mime-read';
import { ensureLocalMailPki } from '../src/main/mssante/sandbox-pki';
import { SANDBOX_PATIENT } from '../src/main/mssante/sandbox-service';
import { PROCESSED_KEYWORD } from '../src/main/mssante/wire-profile';
import { freePort } from '../src/main/sandbox/ports';
import { spawnDetached, stopPid } from '../src/main/sandbox/processes';
import { openDatabase } from '../src/main/store/database';
import { blobMigrations, SecureBlobStore } from '../src/main/store/secure-blobs';
import { ensureBuilt, OUT } from '../test/support/build';
import { startLink } from './link';

const N = Number(process.env.LPS_BENCH_MAILS ?? 1000);
const TARGET = 1.5;
const RUNS = Math.max(1, Number(process.env.LPS_BENCH_MAIL_RUNS ?? 3));
const DOMAIN = 'sandbox.mssante.fr';
const SENDER = `jean.dupont@${DOMAIN}`;
const APP = `pfi.ch-sandbox@${DOMAIN}`;

let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
const execFileP = promisify(execFile);
const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;

/**
 * CPU time (ms) the whole machine has spent busy since boot, every process included (Dovecot's too), from
 * /proc/stat (Linux; undefined elsewhere): what tells whether a phase left any core idle.
 */
function machineBusyMs(): number | undefined {
  try {
    const f = fs.readFileSync('/proc/stat', 'latin1').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return (user + nice + system + irq + softirq + steal) * (1000 / 100); // USER_HZ ticks
  } catch {
    return undefined;
  }
}

/**
 * Wall time, CPU time of the whole process (every thread, workers included), the machine's busy cores over the
 * phase (every process: the app and Dovecot) and peak RSS of one phase.
 */
async function phase<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; cpuMs: number; busyCores?: number; peakRss: number }> {
  (global as { gc?: () => void }).gc?.();
  peak = process.memoryUsage.rss();
  const c0 = process.cpuUsage();
  const m0 = machineBusyMs();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const m1 = machineBusyMs();
  peak = Math.max(peak, process.memoryUsage.rss());
  return { value, ms, cpuMs: (c.user + c.system) / 1000, busyCores: m0 !== undefined && m1 !== undefined ? (m1 - m0) / ms : undefined, peakRss: peak };
}

/**
 * LPS_BENCH_VERBOSE: CPU time (ms) of this process by thread (main, the reading workers, libuv/V8 helpers; all
 * named "node" or by their pool, told apart by rank), read from /proc (Linux). Dovecot is not counted: its IMAP
 * process ends with the session, and its time with it.
 */
function cpuByThread(): Record<string, number> {
  const out: Record<string, number> = {};
  if (!fs.existsSync('/proc/self/task')) return out;
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const st = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
      const comm = /\((.*)\)/.exec(st)![1]!;
      const f = st.split(') ')[1]!.split(' ');
      out[Number(tid) === process.pid ? 'main' : `${comm}#${Number(tid) - process.pid}`] = (Number(f[11]) + Number(f[12])) * (1000 / 100); // USER_HZ ticks
    } catch {
      /* ended */
    }
  }
  return out;
}
function cpuSince(a: Record<string, number>): string {
  const b = cpuByThread();
  return Object.keys(b)
    .map((k) => [k, b[k]! - (a[k] ?? 0)] as const)
    .filter(([, v]) => v >= 20)
    .sort((x, y) => y[1] - x[1])
    .map(([k, v]) => `${k} ${v.toFixed(0)}`)
    .join(', ');
}
const VERBOSE = !!process.env.LPS_BENCH_VERBOSE;
/** The emulated link of the last figure: bandwidth (Mbit/s; 0 = no such figure) and round-trip time. */
const LINK_MBPS = Number(process.env.LPS_BENCH_LINK_MBPS ?? 100);
const LINK_RTT_MS = Number(process.env.LPS_BENCH_LINK_RTT_MS ?? 20);

/** An IMAP session of the applicative account (client certificate) on the private Dovecot. */
function imapClient(port: number, app: MailAccountConfig, caCert: string): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: false,
    doSTARTTLS: true,
    auth: { user: APP, pass: 'pw-app' },
    tls: tlsOptions({ ...app, sandbox: true } as MailAccountConfig, { caFiles: [caCert] }),
    logger: false,
  });
}

/** Connects `c`, runs `fn` with INBOX selected and locked, then logs out. */
async function onInbox<T>(c: ImapFlow, fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  await c.connect();
  const lock = await c.getMailboxLock('INBOX');
  try {
    return await fn(c);
  } finally {
    lock.release();
    await c.logout();
  }
}

/** Takes the app's keyword off every message, so that a new sync finds them all new. */
async function unmark(c: ImapFlow): Promise<void> {
  await onInbox(c, async () => {
    await c.messageFlagsRemove('1:*', [PROCESSED_KEYWORD]);
  });
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lps-bench-mss-'));
  const pids: number[] = [];
  let spool: string | undefined;
  try {
    const pki = ensureLocalMailPki(path.join(tmp, 'pki'));
    const ports = { imap: await freePort(), lmtp: await freePort(), submission: await freePort(), submissionApp: await freePort(), auth: await freePort() };
    const servers = await startMailServers({
      dir: path.join(tmp, 'mail'),
      host: '127.0.0.1',
      ports,
      pki,
      domains: [DOMAIN],
      users: [
        { address: SENDER, password: 'pw-jean' },
        { address: APP, password: 'pw-app', requireClientCert: true },
      ],
      spawn: (name, cmd, args, o) => {
        const pid = spawnDetached({ command: cmd, args, logFile: path.join(tmp, `${name}.out`), env: o?.env });
        pids.push(pid);
        return pid;
      },
    });
    spool = servers.spoolDir;
    const app = {
      address: APP,
      kind: 'APP',
      auth: 'client-cert',
      password: 'pw-app',
      imap: { host: '127.0.0.1', port: ports.imap },
      smtp: { host: '127.0.0.1', port: ports.submissionApp },
      clientCertificate: { cert: pki.appClientCert!, key: pki.appClientKey! },
    };
    const imap = () => imapClient(ports.imap, app as unknown as MailAccountConfig, pki.caCert);

    // 1,000 document mails, each with its own CDA in an IHE_XDM.zip plus the companion PDF (rendered once).
    let t = performance.now();
    const examples = path.resolve(__dirname, '..', 'examples');
    const { request, baseDir } = loadCdaRequest(path.join(examples, 'cda-request.json'));
    const first = buildCda(request, { baseDir });
    const pdf = (await writeXdm([first.parsed], { sourceId: '1.2.250.1.999.1', companionPdfs: true })).companions[0]!;
    const loader = imap();
    await loader.connect();
    let bytes = 0;
    for (let i = 0; i < N; i++) {
      const cda = i === 0 ? first : buildCda(request, { baseDir });
      const w = await writeXdm([cda.parsed], { sourceId: '1.2.250.1.999.1', companionPdfs: false });
      const raw = await new MailComposer({
        from: SENDER,
        to: APP,
        subject: `XDM/1.0/DDM+${cda.parsed.header.title}`,
        text: 'Veuillez trouver ci-joint le document.',
        messageId: newMessageId(SENDER),
        date: new Date(),
        headers: [
          { key: 'X-MSS-CODECDA', value: cda.parsed.header.typeCode.code },
          { key: 'X-MSS-INS', value: 'O' },
          { key: 'X-MSS-NIL', value: 'bench' },
        ],
        attachments: [
          { filename: 'IHE_XDM.zip', content: w.zip!, contentType: 'application/zip' },
          { filename: pdf.name, content: pdf.pdf, contentType: 'application/pdf' },
        ],
      })
        .compile()
        .build();
      bytes += raw.length;
      await loader.append('INBOX', raw);
    }
    await loader.logout();
    console.log(`prepared ${N} document mails (${mb(bytes)}, ${(bytes / N / 1024).toFixed(0)} KB each) in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    // Baseline: raw FETCH of every source over one session, twice (the first warms Dovecot's caches).
    const rawFetch = async (client: ImapFlow = imap()) => {
      let n = 0;
      let total = 0;
      await onInbox(client, async (c) => {
        for await (const m of c.fetch('1:*', { uid: true, source: true })) {
          n++;
          total += m.source?.length ?? 0;
        }
      });
      if (n !== N) throw new Error(`bench: fetched ${n} messages, expected ${N}`);
      return total;
    };
    await rawFetch();
    let threads = cpuByThread();
    const base = await phase(() => rawFetch());
    if (VERBOSE) console.log(`CPU ms during the raw FETCH: ${cpuSince(threads)}`);

    // Storage floor: what the sync must do besides reading, with no reading at all — the same batched FETCH, each
    // batch's messages stored encrypted (AES-256-GCM) in one fsync'd SQLite transaction, then one keyword STORE,
    // one after the other on one thread.
    const storageFloor = async () => {
      const db = openDatabase(path.join(tmp, 'floor', 'floor.db'), blobMigrations);
      const blobs = new SecureBlobStore(db, crypto.randomBytes(32));
      try {
        await onInbox(imap(), async (c) => {
          for (let from = 1; from <= N; from += 100) {
            const range = `${from}:${Math.min(N, from + 99)}`;
            const got: Buffer[] = [];
            for await (const m of c.fetch(range, { uid: true, source: true }, { uid: true })) if (m.source) got.push(m.source);
            db.transaction(() => got.forEach((b) => blobs.put(b)))();
            await c.messageFlagsAdd(range, ['$LpsBenchFloor'], { uid: true });
          }
        });
      } finally {
        db.close();
      }
    };
    threads = cpuByThread();
    const floor = await phase(storageFloor);
    if (VERBOSE) console.log(`CPU ms during the storage floor: ${cpuSince(threads)}`);
    const sources: Buffer[] = [];
    await onInbox(imap(), async (c) => {
      for await (const m of c.fetch('1:*', { uid: true, source: true })) if (sources.length < 200 && m.source) sources.push(m.source);
    });

    // The real thing, RUNS times: the app's sync (journal, XDM opened, CDA parsed, INS matched, integrated, keywords
    // set) in a fresh process each run (`syncChild`: its first sync, then a later one, each on an empty data folder),
    // right after a raw FETCH baseline (the better of two: the machine's speed drifts). Before each sync the app's
    // keyword is taken off the messages, so that it finds them all new.
    // The reading workers run the bundle the app ships (out/main/mail-read.worker.js), not the sources compiled
    // by tsx in each worker.
    ensureBuilt();
    const cpu = (x: { cpuMs: number }) => `CPU ${(x.cpuMs / N).toFixed(2)} ms/msg`;
    const cores = os.availableParallelism();
    const runs: { base: number; cold: SyncResult; later: SyncResult }[] = [];
    const busy = (x?: number) => (x === undefined ? '' : ` (machine: ${x.toFixed(2)} of ${cores} cores busy)`);
    /** A data folder whose sandbox profile has the APP account, reached on `imapPort` (Dovecot, or a link to it). */
    const dirFor = (name: string, imapPort = ports.imap) => {
      const dataDir = path.join(tmp, name);
      const account = { ...app, imap: { ...app.imap, port: imapPort } };
      fs.mkdirSync(path.join(dataDir, 'sandbox'), { recursive: true });
      fs.writeFileSync(path.join(dataDir, 'sandbox', 'profile.json'), JSON.stringify({ version: 1, running: false, runDir: path.join(tmp, 'run'), services: {}, accounts: [account], mail: { caFiles: [pki.caCert] }, patients: [SANDBOX_PATIENT] }));
      return dataDir;
    };
    const childOf = (dataDirs: string[]): SyncChild => ({ dataDirs, port: ports.imap, caCert: pki.caCert, app: app as unknown as MailAccountConfig });
    const line = (x: SyncResult, b: number) => `${x.ms.toFixed(0)} ms = ${(x.ms / b).toFixed(2)}× (read on the ${x.readOn}; ${cpu(x)}, so at least ${(x.cpuMs / cores).toFixed(0)} ms on ${cores} cores = ${(x.cpuMs / cores / b).toFixed(2)}× at best;${busy(x.busyCores)} peak RSS ${mb(x.peakRss)})${VERBOSE ? ` [CPU ms by thread: ${x.threads}]` : ''}`;
    for (let r = 0; r < RUNS; r++) {
      if (r > 0) await unmark(imap());
      const [f1, f2] = [await phase(() => rawFetch()), await phase(() => rawFetch())];
      const best = f1.ms <= f2.ms ? f1 : f2;
      const b = best.ms;
      const [cold, later] = await syncInChild(childOf([dirFor(`data-${r}-a`), dirFor(`data-${r}-b`)]));
      runs.push({ base: b, cold: cold!, later: later! });
      console.log(`run ${r + 1}: raw FETCH ${b.toFixed(0)} ms${busy(best.busyCores)}; first sync of a fresh process ${line(cold!, b)}; a later sync ${line(later!, b)}`);
    }
    const median = (f: (x: (typeof runs)[number]) => number) => [...runs].sort((x, y) => f(x) - f(y))[Math.floor(runs.length / 2)]!;
    const midCold = median((x) => x.cold.ms / x.base);
    const midLater = median((x) => x.later.ms / x.base);
    const ratio = midCold.cold.ms / midCold.base;
    const ratioLater = midLater.later.ms / midLater.base;
    const verdict = (x: number) => (x <= TARGET ? 'met' : 'NOT met');
    console.log('');
    console.log(`machine: ${cores} cores, load average ${os.loadavg()[0]!.toFixed(1)} at the end; median of ${RUNS} run(s), each against its own baseline (the better of two raw FETCHes right before it)`);
    console.log(`baseline raw imapflow FETCH of ${N} sources : ${midCold.base.toFixed(0).padStart(6)} ms  (${((N / midCold.base) * 1000).toFixed(0)} msg/s)  [first one: ${cpu(base)}, peak RSS ${mb(base.peakRss)}]`);
    console.log(`storage floor (same FETCH batches, encrypted fsync'd store, keywords; no reading): ${floor.ms.toFixed(0)} ms = ${(floor.ms / base.ms).toFixed(2)}× the first raw FETCH  ${cpu(floor)}`);
    console.log(`sync + integrate ${N} XDM mails, first sync of the app's process: ${midCold.cold.ms.toFixed(0).padStart(6)} ms  ${cpu(midCold.cold)}  peak RSS ${mb(midCold.cold.peakRss)}`);
    console.log(`sync + integrate ${N} XDM mails, a later sync (main thread warm, reading workers new): ${midLater.later.ms.toFixed(0).padStart(6)} ms  ${cpu(midLater.later)}  peak RSS ${mb(midLater.later.peakRss)}`);
    console.log(`ratio sync / raw FETCH: first sync ${ratio.toFixed(2)}× (runs ${runs.map((x) => (x.cold.ms / x.base).toFixed(2)).join(', ')}), later sync ${ratioLater.toFixed(2)}× (runs ${runs.map((x) => (x.later.ms / x.base).toFixed(2)).join(', ')}); target ≤ ${TARGET}× — ${verdict(ratio)} / ${verdict(ratioLater)}`);
    // The same over an emulated network link (`link.ts`: bandwidth and delay, TLS relayed untouched), as a user
    // reaches a real MSSanté operator: does the sync keep up with the network? One run; off with LPS_BENCH_LINK_MBPS=0.
    if (LINK_MBPS > 0) {
      const link = await startLink({ host: '127.0.0.1', port: ports.imap, bitsPerSecond: LINK_MBPS * 1e6, delayMs: LINK_RTT_MS / 2 });
      try {
        await unmark(imap());
        const b = (await phase(() => rawFetch(imapClient(link.port, app as unknown as MailAccountConfig, pki.caCert)))).ms;
        const [cold, later] = await syncInChild(childOf([dirFor('link-a', link.port), dirFor('link-b', link.port)]));
        console.log(
          `over an emulated link of ${LINK_MBPS} Mbit/s and ${LINK_RTT_MS} ms round trip: raw FETCH ${b.toFixed(0)} ms; first sync ${cold!.ms.toFixed(0)} ms = ${(cold!.ms / b).toFixed(2)}×, a later sync ${later!.ms.toFixed(0)} ms = ${(later!.ms / b).toFixed(2)}× (target ≤ ${TARGET}× — ${verdict(cold!.ms / b)} / ${verdict(later!.ms / b)})`,
        );
      } finally {
        await link.close();
      }
    }
    // Where the time goes, per message, on 200 of the same messages (CPU-bound stages, in isolation).
    let t0 = performance.now();
    const zips: Buffer[] = [];
    for (const src of sources) {
      zips.push(readMime(src).parts.find((a) => a.filename === 'IHE_XDM.zip')!.content);
    }
    const mimeMs = (performance.now() - t0) / sources.length;
    t0 = performance.now();
    for (const z of zips) (await readXdm(z, { inMemoryMaxBytes: 32 * 1024 * 1024 })).cleanup();
    const xdmMs = (performance.now() - t0) / zips.length;
    console.log(`per message, stages alone on one thread: MIME read ${mimeMs.toFixed(2)} ms, XDM open/verify + CDA parse ${xdmMs.toFixed(2)} ms; a later sync spends ${((midLater.later.cpuMs - base.cpuMs) / N).toFixed(2)} ms of CPU more than the raw FETCH (both stages, the commit, audit, keywords)`);
  } finally {
    clearInterval(sampler);
    for (const pid of pids.reverse()) await stopPid(pid);
    removeSpoolCompanion(spool);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

interface SyncResult {
  ms: number;
  cpuMs: number;
  /** The machine's busy cores over the sync (every process, Dovecot included). */
  busyCores?: number;
  peakRss: number;
  threads: string;
  /** Where the messages were read: "main thread", "1 worker", "N workers". */
  readOn: string;
}

interface SyncChild {
  dataDirs: string[];
  port: number;
  caCert: string;
  app: MailAccountConfig;
}

/**
 * The syncs of one run, in a fresh process: the first on one data folder (everything cold, as the app's first sync
 * after it starts), then, the keywords taken off, a later one on another (the main thread's code warm; the reading
 * workers new, as after their idle stop). Prints their figures as JSON.
 */
async function syncChild(cfg: SyncChild): Promise<void> {
  const out: SyncResult[] = [];
  try {
    for (const [i, dataDir] of cfg.dataDirs.entries()) {
      if (i > 0) await unmark(imapClient(cfg.port, cfg.app, cfg.caCert));
      const core = createCore({ dataDir, runtime: 'node' });
      try {
        // LPS_BENCH_READ_WORKERS: the `mssante.readWorkers` setting (0 = main thread), to compare with this machine's default.
        if (process.env.LPS_BENCH_READ_WORKERS) core.settings.set(SETTING_READ_WORKERS, Number(process.env.LPS_BENCH_READ_WORKERS));
        const threads = cpuByThread();
        const sync = await phase(() => core.registry.call('mssante.sync', { account: APP }));
        const integrated = sync.value.messages.filter((m) => m.documents.some((d) => d.result === 'integrated')).length;
        if (integrated !== N) throw new Error(`bench: ${integrated} integrated, expected ${N}`);
        const done = core.db.prepare(`SELECT details FROM audit WHERE action = 'mssante.sync.done' ORDER BY id DESC LIMIT 1`).get() as { details: string };
        const workers = readWorkerCount(undefined, core.settings.get<unknown>(SETTING_READ_WORKERS));
        const readOn = (JSON.parse(done.details) as { readOn: string }).readOn === 'workers' ? `${workers} worker${workers > 1 ? 's' : ''}` : 'main thread';
        out.push({ ms: sync.ms, cpuMs: sync.cpuMs, busyCores: sync.busyCores, peakRss: sync.peakRss, threads: cpuSince(threads), readOn });
      } finally {
        await core.close();
      }
    }
    console.log(`${CHILD_RESULT}${JSON.stringify(out)}`);
  } finally {
    clearInterval(sampler);
  }
}

const CHILD_FLAG = '--sync-child';
const CHILD_RESULT = 'SYNC-RESULT ';

async function syncInChild(cfg: SyncChild): Promise<SyncResult[]> {
  const { stdout } = await execFileP(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, CHILD_FLAG, JSON.stringify(cfg)], {
    env: { ...process.env, LPS_MAIL_READ_WORKER: path.join(OUT, 'main', 'mail-read.worker.js') },
    maxBuffer: 64 * 1024 * 1024,
  });
  const line = stdout.split('\n').find((l) => l.startsWith(CHILD_RESULT));
  if (!line) throw new Error(`bench: the sync process printed no result:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(CHILD_RESULT.length)) as SyncResult[];
}

(process.argv[2] === CHILD_FLAG ? syncChild(JSON.parse(process.argv[3]!) as SyncChild) : main()).catch((err) => {
  console.error(err);
  process.exit(1);
});
