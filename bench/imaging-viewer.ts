/**
 * Viewer part of the imaging benchmark (run by imaging.bench.ts): the app's real viewer in headless Chromium
 * (browser harness, strict page CSP, decode workers with the WebAssembly codecs) against the real sandbox
 * (identity for the CPS sign-in, DMP test server with the KOS, PACS: Orthanc + DICOMweb behind the proxy). The
 * app's main side (core + harness) runs in a process of its own, as Electron's main process would, not in this
 * one (which runs playwright).
 * For the 300-slice CT stored uncompressed, JPEG-LS and JPEG 2000, each run on a cold cache (main's disk
 * cache emptied, new page). The figures share the machine's cores with Chromium, Orthanc and the proxy:
 *  - raw WADO-RS download of the same series (Node fetch through the proxy, bytes only, in a Node process of its
 *    own), right before and right after the viewer loads it, each the better of two, averaged — the baseline;
 *  - viewer time to first image (from `imaging.open` resolving, i.e. once the KOS is resolved): the first image
 *    displayed — for JPEG 2000 the progressive preview decoded at half resolution — and beside it the time to that
 *    image at full resolution (the same for the other syntaxes); full load (all 300 frames decoded and in
 *    cornerstone's cache), and the ratio to the baseline;
 *  - decode cost per frame in the browser workers, and how close the full load is to transfer and decode
 *    fully overlapped across the workers: max(raw transfer, decode total / workers);
 *  - cached stack-scroll rate (one new slice per animation frame requested).
 * The sandbox lives in $LPS_BENCH_VIEWER_DIR (default <tmp>/lps-bench-imaging-viewer), kept between runs.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import { dmpSandboxService } from '../src/main/dmp/sandbox-service';
import { identitySandboxService } from '../src/main/identity/sandbox-service';
import { ACCEPT_INSTANCES } from '../src/main/imaging/dicomweb-client';
import { pacsSandboxService, type PacsProfile } from '../src/main/imaging/sandbox-service';
import { SandboxManager } from '../src/main/sandbox/manager';
import { waitForPort } from '../src/main/sandbox/ports';
import { isAlive, spawnDetached, stopPid } from '../src/main/sandbox/processes';
import { HAS_CHROMIUM } from '../test/support/browser';
import { ensureBuilt } from '../test/support/build';
import { openAppProcess } from '../test/support/harness';
import { startLink } from './link';

const execFileP = promisify(execFile);
const RUNS = Number(process.env.LPS_BENCH_VIEWER_RUNS ?? 2);
/** The emulated link of the last run (uncompressed series only): bandwidth (Mbit/s; 0 = no such run) and round trip. */
const LINK_MBPS = Number(process.env.LPS_BENCH_LINK_MBPS ?? 100);
const LINK_RTT_MS = Number(process.env.LPS_BENCH_LINK_RTT_MS ?? 20);
const INS = '279035121518989';
const SERIES = [
  { name: 'uncompressed', label: /non compressé/, ts: '1.2.840.10008.1.2.1' },
  { name: 'JPEG-LS', label: /JPEG-LS/, ts: '1.2.840.10008.1.2.4.80' },
  { name: 'JPEG 2000', label: /JPEG 2000/, ts: '1.2.840.10008.1.2.4.90' },
];

/**
 * LPS_BENCH_VERBOSE: CPU time (ms) of each party over a phase — Orthanc, the sandbox PACS proxy, Chromium (all its
 * processes), the app's process (core + harness) and this one — read from /proc (Linux), to see where a 2-core
 * machine's time goes.
 */
let appPid = 0;
function cpuSnapshot(): Record<string, number> {
  const out: Record<string, number> = { orthanc: 0, proxy: 0, chromium: 0, app: 0, bench: 0 };
  const tick = 1000 / 100; // USER_HZ
  for (const pid of fs.existsSync('/proc') ? fs.readdirSync('/proc').filter((d) => /^[0-9]+$/.test(d)) : []) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'latin1');
      const who = /(^|\/)Orthanc\0/i.test(cmd) || /\/orthanc\0/.test(cmd) ? 'orthanc' : cmd.includes('pacs-proxy-main') ? 'proxy' : /chrom(e|ium)/.test(cmd.split('\0')[0]!) ? 'chromium' : Number(pid) === appPid ? 'app' : Number(pid) === process.pid ? 'bench' : undefined;
      if (!who) continue;
      const f = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
      const t = (Number(f[11]) + Number(f[12])) * tick;
      out[who]! += t;
      if (who === 'chromium') {
        // …and by Chromium process type (renderer, gpu-process, utility = network service, browser).
        const type = `chromium/${/--type=([a-z-]+)/.exec(cmd)?.[1] ?? 'browser'}`;
        out[type] = (out[type] ?? 0) + t;
      }
      if ((who === 'app' || cmd.includes('--type=renderer')) && process.env.LPS_BENCH_VERBOSE === '2') {
        // LPS_BENCH_VERBOSE=2: the app's and the renderer's by thread (the app's threads are all called "node": by
        // their rank), user + system time.
        for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
          const st = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
          const comm = /\((.*)\)/.exec(st)![1]!;
          const name = who === 'app' ? `app/${comm}#${Number(tid) - Number(pid)}` : `renderer/${comm.replace(/[0-9]+$/, '')}`;
          const g = st.split(') ')[1]!.split(' ');
          out[name] = (out[name] ?? 0) + (Number(g[11]) + Number(g[12])) * tick;
        }
      }
    } catch {
      /* gone */
    }
  }
  return out;
}
const cpuSince = (a: Record<string, number>) => {
  const b = cpuSnapshot();
  return Object.keys(b)
    .map((k) => `${k} ${(b[k]! - (a[k] ?? 0)).toFixed(0)}`)
    .join(', ');
};

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' / ');
const ms = (x: number) => `${x.toFixed(0).padStart(6)} ms`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Puts an emulated network link (`link.ts`) in front of the PACS: the sandbox's DICOMweb proxy is restarted with
 * its upstream (Orthanc) reached through the link, on the same port, so that the raw download and the viewer both
 * get every byte through it — as from a remote site's PACS. The sandbox's record names the new proxy. Returns
 * what undoes it (the link closed, that proxy stopped; the sandbox's own is not restarted).
 */
async function linkPacs(manager: SandboxManager): Promise<() => Promise<void>> {
  // The PACS service records Orthanc's PID, then its proxy's.
  const recorded = JSON.parse(fs.readFileSync(manager.profilePath, 'utf8')) as { services: Record<string, { pids: number[] }> };
  const pacs = recorded.services['pacs']!;
  const proxyPid = pacs.pids[1]!;
  const configFile = path.join(manager.runDir, 'pacs-proxy.json');
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as { port: number; upstream: string };
  const orthanc = new URL(config.upstream);
  const link = await startLink({ host: orthanc.hostname, port: Number(orthanc.port), bitsPerSecond: LINK_MBPS * 1e6, delayMs: LINK_RTT_MS / 2 });
  await stopPid(proxyPid);
  const linkedFile = path.join(manager.runDir, 'pacs-proxy-link.json');
  fs.writeFileSync(linkedFile, JSON.stringify({ ...config, upstream: `http://127.0.0.1:${link.port}` }), { mode: 0o600 });
  const pid = spawnDetached({
    command: process.execPath,
    args: ['--import', 'tsx', path.join(__dirname, '..', 'src', 'main', 'imaging', 'pacs-proxy-main.ts'), linkedFile],
    logFile: path.join(manager.runDir, 'logs', 'pacs-proxy-link.log'),
    cwd: path.join(__dirname, '..'),
  });
  // The sandbox's record follows (the app checks that every recorded process is alive; `down` stops this one).
  pacs.pids = pacs.pids.map((p) => (p === proxyPid ? pid : p));
  fs.writeFileSync(manager.profilePath, JSON.stringify(recorded, null, 2));
  const undo = async () => {
    await stopPid(pid);
    await link.close();
  };
  try {
    await waitForPort(config.port, { timeoutMs: 20_000, isAlive: () => isAlive(pid) });
  } catch (err) {
    await undo();
    throw err;
  }
  return undo;
}

async function dataset(page: Page): Promise<Record<string, string>> {
  return page.getByTestId('viewer-viewport').evaluate((e) => ({ ...(e as HTMLElement).dataset }) as Record<string, string>);
}

export async function viewerBench(): Promise<void> {
  if (!HAS_CHROMIUM) {
    console.log('\nViewer: Chromium absent, skipped.');
    return;
  }
  ensureBuilt();
  const dataDir = process.env.LPS_BENCH_VIEWER_DIR ?? path.join(os.tmpdir(), 'lps-bench-imaging-viewer');
  const manager = new SandboxManager({ dataDir, services: [identitySandboxService, dmpSandboxService, pacsSandboxService], onProgress: (m) => console.log(m) });
  const load0 = loadavg();
  const t0 = performance.now();
  const profile = (await manager.up()) as unknown as { pacs: PacsProfile };
  console.log(`\nViewer benchmark — sandbox up in ${ms(performance.now() - t0)}`);
  const pacs = profile.pacs;
  const seed = JSON.parse(fs.readFileSync(pacs.seedFile, 'utf8')) as { studies: { key: string; studyInstanceUid: string; series: { seriesInstanceUid: string; transferSyntaxUid: string }[] }[] };
  const ct = seed.studies.find((s) => s.key === 'ct-phantom')!;
  type Row = { raw: number[]; first: number[]; firstFull: number[]; reduced: number; full: number[]; decode: number[]; bytes: number };
  const rows: Record<string, Row> = {};
  const linkRows: Record<string, Row> = {};
  let unlink: (() => Promise<void>) | undefined;
  const fps: number[] = [];
  const renderMs: string[] = [];
  let workers = 0;
  try {
    // The last run, when a link is asked for: the uncompressed series through it (the others are decode-bound).
    for (let run = 0; run < RUNS + (LINK_MBPS > 0 ? 1 : 0); run++) {
      const linked = run === RUNS;
      if (linked) {
        console.log(`  over an emulated link of ${LINK_MBPS} Mbit/s and ${LINK_RTT_MS} ms round trip in front of the PACS:`);
        unlink = await linkPacs(manager);
      }
      fs.rmSync(path.join(dataDir, 'cache', 'imaging'), { recursive: true, force: true });
      const app = await openAppProcess(dataDir, { width: 1400, height: 900 });
      appPid = app.pid;
      const { page } = app;
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      try {
        await page.getByRole('heading', { name: 'Accueil' }).waitFor();
        await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
        await page.getByText('Carte insérée').waitFor({ timeout: 30_000 });
        await page.getByLabel('Code PIN', { exact: true }).fill('1234');
        await page.getByRole('button', { name: 'Valider le code PIN' }).click();
        await page.getByTestId('session-name').waitFor();
        await app.invoke('patients.upsert', { ins: INS, insOid: '1.2.250.1.213.1.4.10', insQualified: true, birthFamily: 'PAT-TROIS', firstGiven: 'DOMINIQUE', gender: 'F', birthDate: '1979-03-28' });
        const nav = page.getByRole('navigation', { name: 'Navigation principale' });
        await nav.getByRole('button', { name: 'Patients' }).click();
        await page.locator('#patient-search').fill('PAT-TROIS');
        await page.locator('#patient-search').press('Enter');
        await page.locator('.list-item', { hasText: 'PAT-TROIS' }).first().click();
        await nav.getByRole('button', { name: 'Imagerie' }).click();
        workers = await page.evaluate(() => Math.max(1, Math.min(4, navigator.hardwareConcurrency || 2)));

        // Baseline, same run: the whole series over WADO-RS by a plain Node client (fetch through the proxy, bytes
        // only, in a process of its own, like the app's), right before and right after the viewer loads it (so it
        // never competes with the viewer); each time the better of two downloads (warm), and their mean is used.
        const rawDownload = async (seriesUid: string) => {
          const c0 = cpuSnapshot();
          const script = `
            const [url, headers] = JSON.parse(process.argv[1]);
            (async () => {
              const out = [];
              for (let i = 0; i < 2; i++) {
                const c0 = process.cpuUsage();
                const t = performance.now();
                const res = await fetch(url, { headers });
                const bytes = (await res.arrayBuffer()).byteLength;
                const c = process.cpuUsage(c0);
                out.push({ ms: performance.now() - t, bytes, cpu: (c.user + c.system) / 1000 });
              }
              process.stdout.write(JSON.stringify(out));
            })();`;
          const arg = JSON.stringify([
            `${pacs.dicomwebUrl}/studies/${ct.studyInstanceUid}/series/${seriesUid}`,
            { authorization: `Bearer ${pacs.accessToken}`, accept: ACCEPT_INSTANCES, 'kos-sopinstanceuid': pacs.benchmark!.kosSopInstanceUid },
          ]);
          const { stdout } = await execFileP(process.execPath, ['-e', script, arg], { maxBuffer: 1 << 20 });
          const runs = JSON.parse(stdout) as { ms: number; bytes: number; cpu: number }[];
          const best = runs.reduce((a, b) => (b.ms < a.ms ? b : a));
          return { ms: best.ms, bytes: best.bytes, cpu: process.env.LPS_BENCH_VERBOSE ? `${cpuSince(c0)}, raw client ${runs.map((r) => r.cpu.toFixed(0)).join(' + ')}` : '' };
        };
        // The exam list on screen first: the app is idle when the first baseline is taken.
        await page.getByRole('row', { name: /TDM thoraco-abdominale/ }).waitFor();
        for (const [i, s] of (linked ? SERIES.slice(0, 1) : SERIES).entries()) {
          const seriesUid = ct.series.find((x) => x.transferSyntaxUid === s.ts)!.seriesInstanceUid;
          const before = await rawDownload(seriesUid);
          const c0 = cpuSnapshot();
          // LPS_BENCH_PROFILE=1: the renderer's main thread profiled while it loads each series (bench/results/).
          const cdp = process.env.LPS_BENCH_PROFILE ? await page.context().newCDPSession(page) : undefined;
          if (cdp) {
            await cdp.send('Profiler.enable');
            await cdp.send('Profiler.start');
          }
          if (i === 0) {
            await page.getByRole('row', { name: /TDM thoraco-abdominale/ }).getByRole('button', { name: 'Ouvrir les images' }).click();
          } else {
            await page.locator('.viewer-series-item', { hasText: s.label }).click();
            await page.waitForFunction(() => document.querySelector('[data-testid=viewer-index]')?.textContent === 'Image 1/300');
          }
          await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-full-load-ms'), null, { timeout: 180_000 });
          if (cdp) {
            const { profile } = (await cdp.send('Profiler.stop')) as { profile: unknown };
            fs.mkdirSync(path.join(__dirname, 'results'), { recursive: true });
            fs.writeFileSync(path.join(__dirname, 'results', `viewer-${s.name.replace(/\W+/g, '')}-${run}.cpuprofile`), JSON.stringify(profile));
            await cdp.detach();
          }
          const d = await dataset(page);
          const viewerCpu = process.env.LPS_BENCH_VERBOSE ? cpuSince(c0) : '';
          const after = await rawDownload(seriesUid);
          const raw = (before.ms + after.ms) / 2;

          const r = ((linked ? linkRows : rows)[s.name] ??= { raw: [], first: [], firstFull: [], reduced: 0, full: [], decode: [], bytes: after.bytes });
          r.raw.push(raw);
          r.first.push(Number(d.firstImageMs));
          r.firstFull.push(Number(d.fullFirstImageMs));
          if (d.firstImageReduced) r.reduced++;
          r.full.push(Number(d.fullLoadMs));
          r.decode.push(Number(d.decodeMs) / Math.max(1, Number(d.decodedFrames)));
          if (process.env.LPS_BENCH_VERBOSE) console.log(`  ${s.name}: first record ${d.firstRecordMs} ms, first ${d.firstImageMs} ms${d.firstImageReduced ? ` (reduced), full-resolution ${d.fullFirstImageMs} ms` : ''}${d.preview ? ` [preview: ${d.preview}]` : ''}, stream done ${d.streamMs} ms, full ${d.fullLoadMs} ms, raw ${before.ms.toFixed(0)} / ${after.ms.toFixed(0)} ms`);
          if (process.env.LPS_BENCH_VERBOSE) console.log(`    CPU ms — viewer load: ${viewerCpu}; raw download: ${before.cpu}`);
        }
        if (linked) continue; // (the app is closed by the finally below)
        if (process.env.LPS_BENCH_VERBOSE) {
          const t = (await page.evaluate(`(async () => {
            const urls = performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('/lps-frames') && !n.includes('/instances/'));
            const out = [];
            for (const u of urls) {
              const s = performance.now();
              const r = await fetch(u);
              const rd = r.body.getReader();
              let n = 0;
              for (;;) { const x = await rd.read(); if (x.done) break; n += x.value.length; }
              out.push(Math.round(performance.now() - s) + ' ms ' + (n >> 20) + ' MiB');
            }
            return out.join(', ');
          })()`)) as string;
          console.log(`  page fetch of the series streams alone: ${t}`);
          const urls = (await page.evaluate(`performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('/lps-frames') && !n.includes('/instances/'))`)) as string[];
          for (const u of urls) {
            const t0 = performance.now();
            const r = await fetch(u, { headers: { 'x-lps-token': app.token } });
            let n = 0;
            for await (const c of r.body as unknown as AsyncIterable<Uint8Array>) n += c.length;
            console.log(`  node fetch of ${u.slice(-30)}: ${(performance.now() - t0).toFixed(0)} ms ${n >> 20} MiB`);
          }
        }
        // Cached stack scroll: one ArrowDown per animation frame, renders counted.
        await page.getByTestId('viewer-viewport').focus();
        await page.keyboard.press('Home');
        // A string, not a function: tsx would wrap inner functions with a helper absent from the page.
        const f = (await page.evaluate(`(async () => {
          const el = document.querySelector('[data-testid=viewer-viewport]');
          let renders = 0;
          const times = [];
          const count = (e) => { renders++; times.push(e.detail.renderTimeInMs); };
          el.addEventListener('cornerstoneimagerendered', count);
          const start = performance.now();
          await new Promise((resolve) => {
            let n = 0;
            const step = () => {
              el.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowDown', bubbles: true }));
              if (++n < 240) requestAnimationFrame(step);
              else requestAnimationFrame(() => resolve());
            };
            requestAnimationFrame(step);
          });
          el.removeEventListener('cornerstoneimagerendered', count);
          times.sort((a, b) => a - b);
          return { renders, ms: performance.now() - start, index: el.getAttribute('data-index'), render: times[times.length >> 1], render90: times[Math.floor(times.length * 0.9)] };
        })()`)) as { renders: number; ms: number; index: string | null; render: number; render90: number };
        fps.push((f.renders * 1000) / f.ms);
        renderMs.push(`${f.render.toFixed(1)}/${f.render90.toFixed(1)}`);
        if (problems.length) console.log(`  console errors: ${problems.slice(0, 3).join(' | ')}`);
      } finally {
        await app.close();
      }
    }
  } finally {
    await unlink?.();
    await manager.down();
  }
  console.log(`CT 300 × 512², Chromium headless, ${workers} decode worker(s), cold cache, median of ${RUNS} run(s); load average at start ${load0}, at end ${loadavg()}`);
  console.log('1st image = first image displayed (reduced resolution when marked *, JPEG 2000 progressive preview); 1st full-res = that image at full resolution');
  console.log('decode/frame = in a decode worker; for uncompressed frames, their preparation on the page (sign, min/max: nothing to decode)');
  console.log('syntax        | raw WADO-RS | viewer 1st image | 1st full-res | viewer full load | ratio | MiB | decode/frame          | transfer‖decode bound | full / bound');
  for (const s of SERIES) {
    const r = rows[s.name];
    if (!r) continue;
    const raw = median(r.raw);
    const full = median(r.full);
    const dec = median(r.decode);
    const bound = Math.max(raw, (dec * 300) / workers);
    console.log(
      `${s.name.padEnd(13)} | ${ms(raw)}   | ${ms(median(r.first))}${r.reduced ? (r.reduced === r.first.length ? '*' : `*${r.reduced}/${r.first.length}`) : ' '}       | ${ms(median(r.firstFull))}    | ${ms(full)}        | ${(full / raw).toFixed(2)}× | ${(r.bytes / 1048576).toFixed(0).padStart(3)} | ${dec.toFixed(1).padStart(8)} ms           | ${ms(bound)}             | ${(full / bound).toFixed(2)}×`,
    );
  }
  for (const [name, r] of Object.entries(linkRows)) {
    const raw = median(r.raw);
    const full = median(r.full);
    console.log(`${name} over an emulated link of ${LINK_MBPS} Mbit/s and ${LINK_RTT_MS} ms round trip: raw WADO-RS ${ms(raw)}, viewer 1st image ${ms(median(r.first))}, full load ${ms(full)} = ${(full / raw).toFixed(2)}× (target ≤ 1.2× — ${full / raw <= 1.2 ? 'met' : 'NOT met'})`);
  }
  console.log(
    `cached stack scroll: ${fps.map((x) => x.toFixed(1)).join(', ')} fps (target ≥ 55; the display rate caps it at 60); cornerstone render per slice (median/90th percentile): ${renderMs.join(', ')} ms`,
  );
  console.log('Targets: first image displayed ≤ 150 ms; uncompressed full load ≤ 1.2× raw; compressed: close to the transfer‖decode bound.');
}
