import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { Core } from '../../src/main/core/app-core';
import { createCore } from '../../src/main/handlers';
import { startHarness, type HarnessServer } from '../../src/harness/server';
import { launchChromium } from './browser';
import { OUT } from './build';

export interface AppUnderTest {
  core: Core;
  harness: HarnessServer;
  browser: Browser;
  page: Page;
  close(): Promise<void>;
}

/** The app as a user sees it: the built renderer in Chromium, on the browser harness, on a given data dir. */
export async function openApp(dataDir: string, viewport = { width: 1280, height: 800 }): Promise<AppUnderTest> {
  const core = createCore({ dataDir, runtime: 'harness' });
  const harness = await startHarness({ core, rendererDir: `${OUT}/renderer` });
  const { browser, close } = await launchChromium();
  const page = await browser.newPage({ viewport, locale: 'fr-FR', timezoneId: 'Europe/Paris' });
  await page.goto(harness.url);
  return {
    core,
    harness,
    browser,
    page,
    async close() {
      await close();
      await harness.close();
      await core.close();
    },
  };
}

export interface AppProcess {
  page: Page;
  browser: Browser;
  /** The app's process (core + harness), like Electron's main: not this test process. */
  pid: number;
  token: string;
  /** A renderer API call through the harness (as the page would make it). */
  invoke(method: string, input: unknown): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * The app with its main side in a process of its own (the browser harness CLI on `dataDir`), as in production where
 * Electron's main process runs nothing else — for benchmarks: this process also runs playwright, whose async
 * hooks tax every promise it makes. The renderer must be built (`ensureBuilt`).
 */
export async function openAppProcess(dataDir: string, viewport = { width: 1280, height: 800 }): Promise<AppProcess> {
  const root = path.resolve(__dirname, '..', '..');
  // LPS_PROFILE_DIR: a CPU profile of the app's process, written there when it stops (benchmarks).
  const profile = process.env.LPS_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.LPS_PROFILE_DIR}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', path.join(root, 'src', 'harness', 'cli.ts'), '--no-build'], {
    cwd: root,
    env: { ...process.env, LPS_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`harness did not start: ${out}`)), 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString('utf8');
      const m = /Ouvrez : (\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => reject(new Error(`harness exited (${code}): ${out}`)));
  });
  const token = new URL(url).searchParams.get('token')!;
  const origin = new URL(url).origin;
  const { browser, close } = await launchChromium();
  const page = await browser.newPage({ viewport, locale: 'fr-FR', timezoneId: 'Europe/Paris' });
  await page.goto(url);
  return {
    page,
    browser,
    pid: child.pid!,
    token,
    async invoke(method, input) {
      const res = await fetch(`${origin}/__lps/invoke`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-lps-token': token }, body: JSON.stringify({ method, input }) });
      if (!res.ok) throw new Error(`${method}: HTTP ${res.status} ${await res.text()}`);
      return res.json();
    },
    async close() {
      await close();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
