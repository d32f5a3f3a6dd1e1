/**
 * App benchmark: time from launch to interactive — the headless core created on a fresh data dir (migrations),
 * the harness serving the built renderer, Chromium loading it until the main navigation is usable — compared
 * with a blank page (a minimal HTML page from a plain Node HTTP server) loaded in the same Chromium, same run.
 * Cold = first load after the core starts; warm = reloads of the same page (renderer bundle cached).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { startHarness } from '../src/harness/server';
import { createCore } from '../src/main/handlers';
import { launchChromium } from '../test/support/browser';
import { ensureBuilt, OUT } from '../test/support/build';

const ROUNDS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  ensureBuilt();
  const { browser, close } = await launchChromium();
  const blankServer = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>vide</title></head><body><nav aria-label="Navigation principale"><button>Accueil</button></nav></body></html>');
  });
  await new Promise<void>((r) => blankServer.listen(0, '127.0.0.1', r));
  const blankUrl = `http://127.0.0.1:${(blankServer.address() as AddressInfo).port}/`;
  const ready = 'nav[aria-label="Navigation principale"] button';

  const blank: number[] = [];
  const cold: number[] = [];
  const coreStart: number[] = [];
  const warm: number[] = [];
  try {
    // Warm Chromium itself once (process start is not the app's cost).
    const p0 = await browser.newPage();
    await p0.goto(blankUrl);
    await p0.close();
    for (let i = 0; i < ROUNDS; i++) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
      let t = performance.now();
      await page.goto(blankUrl);
      await page.locator(ready).first().waitFor();
      blank.push(performance.now() - t);
      await page.close();

      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lps-bench-app-'));
      t = performance.now();
      const core = createCore({ dataDir, runtime: 'harness' });
      const harness = await startHarness({ core, rendererDir: `${OUT}/renderer` });
      coreStart.push(performance.now() - t);
      const appPage = await browser.newPage({ viewport: { width: 1280, height: 720 }, locale: 'fr-FR' });
      await appPage.goto(harness.url);
      // Interactive: the navigation is rendered and the home screen has loaded its data (heading shown).
      await appPage.getByRole('heading', { name: 'Accueil' }).waitFor();
      await appPage.locator(ready).first().waitFor();
      cold.push(performance.now() - t);
      const t2 = performance.now();
      await appPage.reload();
      await appPage.getByRole('heading', { name: 'Accueil' }).waitFor();
      warm.push(performance.now() - t2);
      await appPage.close();
      await harness.close();
      await core.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  } finally {
    await close();
    blankServer.close();
  }
  const b = median(blank);
  const row = (label: string, xs: number[]) => console.log(`${label.padEnd(52)} ${median(xs).toFixed(0).padStart(6)} ms  (${(median(xs) / b).toFixed(1)}× blank page)`);
  console.log(`rounds: ${ROUNDS} (median)`);
  console.log(`${'baseline: blank page load in the same Chromium'.padEnd(52)} ${b.toFixed(0).padStart(6)} ms`);
  row('core + harness start (fresh data dir, migrations)', coreStart);
  row('launch → interactive (core start + renderer ready)', cold);
  row('reload → interactive (warm)', warm);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
