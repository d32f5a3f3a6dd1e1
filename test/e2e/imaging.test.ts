/**
 * The radiologist's journey in Chromium (browser harness, strict page CSP) against the real sandbox services it
 * needs — identity (CPS card), the DMP test server (KOS + CR-IMG published from the PACS seed) and the PACS
 * (Orthanc + DICOMweb behind the bearer-token proxy): sign in, pick the patient, list the DMP's imaging exams,
 * open the CT → an image is on screen, a window/level drag changes it, scrolling changes the instance; then
 * the same exam from its CR-IMG report. Screenshots: test-results/screenshots/imaging-*.png.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { dmpSandboxService } from '../../src/main/dmp/sandbox-service';
import { softhsmModule } from '../../src/main/identity/card/softhsm';
import { identitySandboxService } from '../../src/main/identity/sandbox-service';
import { ORTHANC_BIN } from '../../src/main/imaging/orthanc';
import { pacsSandboxService } from '../../src/main/imaging/sandbox-service';
import { pacsDir } from '../../src/main/imaging/sandbox-seed';
import { SandboxManager } from '../../src/main/sandbox/manager';
import { HAS_CHROMIUM, SCREENSHOTS_DIR } from '../support/browser';
import { openApp, type AppUnderTest } from '../support/harness';
import { tempDir } from '../support/tmp';

const INS = '279035121518989';
/** The generated 300-slice CT is slow to make (~40 s): kept between runs, outside the repo. */
const CT_CACHE = path.join(os.tmpdir(), 'lps-e2e-imaging-ct-phantom');

describe.skipIf(!HAS_CHROMIUM || !softhsmModule() || !fs.existsSync(ORTHANC_BIN))('imaging in Chromium: DMP exams → viewer (identity + DMP + PACS sandbox)', () => {
  const tmp = tempDir('lps-e2e-imaging-');
  let manager: SandboxManager;
  let app: AppUnderTest;
  let page: Page;
  const problems: string[] = [];
  let shot = 0;

  const screenshot = async (name: string) => {
    fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    const file = path.join(SCREENSHOTS_DIR, `imaging-${String(++shot).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
  };

  /** Pixel statistics of the viewer's canvas (what cornerstone drew). */
  const canvasStats = () =>
    page.locator('[data-testid=viewer-viewport] canvas').evaluate((c: HTMLCanvasElement) => {
      const ctx = c.getContext('2d')!;
      const { data } = ctx.getImageData(0, 0, c.width, c.height);
      const levels = new Set<number>();
      let sum = 0;
      let sum2 = 0;
      let hash = 0;
      const n = data.length / 4;
      for (let i = 0; i < data.length; i += 4) {
        const v = data[i]!;
        levels.add(v);
        sum += v;
        sum2 += v * v;
        hash = (hash * 31 + v + (i >> 2)) >>> 0;
      }
      const mean = sum / n;
      return { width: c.width, height: c.height, levels: levels.size, mean, sd: Math.sqrt(sum2 / n - mean * mean), hash };
    });
  /** Distinct grey levels of each series thumbnail (a drawn image, not a black or blank canvas). */
  const thumbnailLevels = () =>
    page.locator('canvas.viewer-thumb').evaluateAll((cs) =>
      (cs as HTMLCanvasElement[]).map((c) => {
        const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
        const levels = new Set<number>();
        for (let i = 0; i < data.length; i += 4) levels.add(data[i]!);
        return levels.size;
      }),
    );
  const overlay = async (id: string) => (await page.getByTestId(id).textContent()) ?? '';

  beforeAll(async () => {
    if (fs.existsSync(SCREENSHOTS_DIR)) for (const f of fs.readdirSync(SCREENSHOTS_DIR)) if (/^imaging-.*\.png$/.test(f)) fs.rmSync(path.join(SCREENSHOTS_DIR, f));
    manager = new SandboxManager({ dataDir: tmp.dir, services: [identitySandboxService, dmpSandboxService, pacsSandboxService] });
    const ctDir = path.join(pacsDir(manager.sandboxDir), 'ct-phantom');
    if (fs.existsSync(path.join(CT_CACHE, 'manifest.json'))) fs.cpSync(CT_CACHE, ctDir, { recursive: true });
    await manager.up();
    if (!fs.existsSync(path.join(CT_CACHE, 'manifest.json')) && fs.existsSync(ctDir)) fs.cpSync(ctDir, CT_CACHE, { recursive: true });
    app = await openApp(tmp.dir, { width: 1400, height: 900 });
    page = app.page;
    page.on('pageerror', (e) => problems.push(`pageerror: ${String(e)}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
    });
  }, 240_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page) await page.screenshot({ path: path.join(SCREENSHOTS_DIR, `imaging-failure-${ctx.task.name.slice(0, 20).replace(/\W+/g, '-')}.png`) }).catch(() => undefined);
  });

  afterAll(async () => {
    await app?.close();
    await manager?.down();
    tmp.cleanup();
  });

  it('signs in with the CPS card and lists the patient’s imaging exams from the DMP', async () => {
    await page.getByRole('heading', { name: 'Accueil' }).waitFor();
    await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
    await page.getByRole('heading', { name: 'Connexion' }).waitFor();
    await page.getByText('Carte insérée').waitFor({ timeout: 30_000 });
    await page.getByLabel('Code PIN', { exact: true }).fill('1234');
    await page.getByRole('button', { name: 'Valider le code PIN' }).click();
    await page.getByTestId('session-name').waitFor();
    const created = await app.core.registry.invoke(
      'patients.upsert',
      { ins: INS, insOid: '1.2.250.1.213.1.4.10', insQualified: true, birthFamily: 'PAT-TROIS', firstGiven: 'DOMINIQUE', gender: 'F', birthDate: '1979-03-28' },
      { transport: 'test' },
    );
    expect(created.ok).toBe(true);
    await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('button', { name: 'Patients' }).click();
    await page.locator('#patient-search').fill('PAT-TROIS');
    await page.locator('#patient-search').press('Enter');
    await page.locator('.list-item', { hasText: 'PAT-TROIS' }).first().click();
    await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('button', { name: 'Imagerie' }).click();
    const table = page.getByRole('table', { name: "Examens d'imagerie du DMP" });
    await table.waitFor({ timeout: 30_000 });
    expect(await table.locator('caption').textContent()).toMatch(/trouvé\(s\) dans le DMP/);
    const ct = table.getByRole('row', { name: /TDM thoraco-abdominale/ });
    expect(await ct.textContent()).toMatch(/LPSCT0001/);
    expect(await ct.getByRole('button', { name: /CR d'imagerie médicale/ }).count()).toBe(1);
    // The modality filter goes to the DMP (TD3.1): only the MR exam is left.
    await page.getByLabel('Modalité').selectOption('MR');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await table.getByRole('row', { name: /TDM thoraco-abdominale/ }).waitFor({ state: 'detached' });
    expect(await table.locator('tbody tr').count()).toBe(1);
    expect(await table.locator('tbody tr').first().textContent()).toMatch(/IRM cérébrale/);
    await page.getByLabel('Modalité').selectOption('');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await table.getByRole('row', { name: /TDM thoraco-abdominale/ }).waitFor();
    await screenshot('exams');
  });

  it('opens the CT from the DMP list: an image is visible, window/level drag and scrolling change it', async () => {
    await page.getByRole('row', { name: /TDM thoraco-abdominale/ }).getByRole('button', { name: 'Ouvrir les images' }).click();
    const viewport = page.getByTestId('viewer-viewport');
    await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-first-image-ms'), null, { timeout: 30_000 });
    const first = await canvasStats();
    expect(first.width).toBeGreaterThan(200);
    expect(first.levels).toBeGreaterThan(20); // a real image, not a uniform or blank canvas
    expect(first.sd).toBeGreaterThan(10);
    expect(await overlay('viewer-index')).toBe('Image 1/300');
    expect(await page.locator('.viewer-overlay-tl').textContent()).toMatch(/PAT-TROIS DOMINIQUE.*Examen du 15\/01\/2026/);
    await screenshot('viewer-first-image');

    // Window/level: a left-button drag on the image.
    const voiBefore = await overlay('viewer-voi');
    const box = (await viewport.boundingBox())!;
    const cx = box.x + box.width / 2;
    const cy = box.y + box.height / 2;
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + 60, cy + 40, { steps: 5 });
    await page.mouse.move(cx + 140, cy + 90, { steps: 5 });
    await page.mouse.up();
    const voiAfter = await overlay('viewer-voi');
    expect(voiAfter).not.toBe(voiBefore);
    const leveled = await canvasStats();
    expect(leveled.hash).not.toBe(first.hash);
    expect(Math.abs(leveled.mean - first.mean)).toBeGreaterThan(1);
    await screenshot('viewer-window-level');

    // Stack scroll with the wheel (real input), then with the keyboard.
    await page.mouse.move(cx, cy);
    for (let i = 0; i < 5; i++) await page.mouse.wheel(0, 120);
    await page.waitForFunction(() => document.querySelector('[data-testid=viewer-index]')?.textContent !== 'Image 1/300');
    const idx = Number(/Image (\d+)\/300/.exec(await overlay('viewer-index'))![1]);
    expect(idx).toBeGreaterThan(1);
    // A slice 40 images further: clearly different anatomy in the phantom.
    await viewport.focus();
    for (let i = 0; i < 4; i++) await page.keyboard.press('PageDown');
    await page.waitForFunction((n) => document.querySelector('[data-testid=viewer-index]')?.textContent === `Image ${n}/300`, idx + 40);
    const scrolled = await canvasStats();
    expect(scrolled.levels).toBeGreaterThan(20);
    expect(scrolled.hash).not.toBe(leveled.hash);
    // The rest of the series loads in the background, with progress.
    await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-full-load-ms'), null, { timeout: 90_000 });
    expect(await page.getByTestId('viewer-progress').getAttribute('value')).toBe('300');
    await screenshot('viewer-scrolled');
  });

  it('switches to the JPEG-LS series and the J2K series (codecs in workers under the strict CSP)', async () => {
    for (const name of [/JPEG-LS/, /JPEG 2000/]) {
      await page.locator('.viewer-series-item', { hasText: name }).click();
      await page.waitForFunction(() => document.querySelector('[data-testid=viewer-index]')?.textContent === 'Image 1/300');
      await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-first-image-ms'), null, { timeout: 30_000 });
      const s = await canvasStats();
      expect(s.levels).toBeGreaterThan(20);
      // JPEG 2000: the first image is shown at half resolution first (progressive), then replaced by its full
      // decode; measurements are off meanwhile. Other syntaxes: the first image shown is the full one.
      await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-full-first-image-ms'), null, { timeout: 30_000 });
      const d = await page.getByTestId('viewer-viewport').evaluate((e) => ({ ...(e as HTMLElement).dataset }) as Record<string, string | undefined>);
      expect(d.refining).toBeUndefined();
      expect(await page.getByTestId('viewer-refining').count()).toBe(0);
      await expect.poll(() => page.getByRole('button', { name: 'Distance', exact: true }).isEnabled()).toBe(true);
      if (String(name) === String(/JPEG 2000/)) {
        expect(d.firstImageReduced).toBe('1');
        expect(Number(d.fullFirstImageMs)).toBeGreaterThanOrEqual(Number(d.firstImageMs));
      } else {
        expect(d.firstImageReduced).toBeUndefined();
        expect(d.fullFirstImageMs).toBe(d.firstImageMs);
      }
    }
    // Every series has its thumbnail drawn (its middle image).
    await expect.poll(async () => Math.min(...(await thumbnailLevels())), { timeout: 20_000 }).toBeGreaterThan(10);
    expect(await thumbnailLevels()).toHaveLength(3);
    await screenshot('viewer-j2k');

    // Leave the J2K series while it is still loading and come back: what had arrived but was not decoded was
    // dropped on leaving (memory) and streams again; the whole series loads, down to its last image.
    await page.locator('.viewer-series-item', { hasText: /JPEG-LS/ }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=viewer-index]')?.textContent === 'Image 1/300');
    await page.locator('.viewer-series-item', { hasText: /JPEG 2000/ }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid=viewer-index]')?.textContent === 'Image 1/300');
    await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-full-load-ms'), null, { timeout: 120_000 });
    expect(await page.getByTestId('viewer-progress').getAttribute('value')).toBe('300');
    await page.getByTestId('viewer-viewport').focus();
    await page.keyboard.press('End');
    await page.waitForFunction(() => document.querySelector('[data-testid=viewer-index]')?.textContent === 'Image 300/300');
    expect((await canvasStats()).levels).toBeGreaterThan(20);
  }, 240_000);

  it('shows the colour captures, the lossless JPEG one decoded by our own decoder (transfer syntax .70)', async () => {
    await page.getByRole('button', { name: '← Retour aux examens' }).click();
    await page.getByRole('row', { name: /Captures couleur/ }).getByRole('button', { name: 'Ouvrir les images' }).click();
    await page.getByRole('heading', { name: /Captures couleur/ }).waitFor();
    await page.locator('.viewer-series-item', { hasText: /JPEG sans perte/ }).click();
    await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-first-image-ms'), null, { timeout: 30_000 });
    expect(await page.locator('.viewer-error').count()).toBe(0);
    // Colour: the red, green and blue channels differ somewhere on the canvas.
    const colour = await page.locator('[data-testid=viewer-viewport] canvas').evaluate((c: HTMLCanvasElement) => {
      const { data } = c.getContext('2d')!.getImageData(0, 0, c.width, c.height);
      let coloured = 0;
      for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - data[i + 1]!) > 40 || Math.abs(data[i + 1]! - data[i + 2]!) > 40) coloured++;
      return coloured / (data.length / 4);
    });
    expect(colour).toBeGreaterThan(0.05);
    // The thumbnails of colour series are drawn too (they used to stay black for RLE and lossless JPEG).
    await expect.poll(async () => Math.min(...(await thumbnailLevels())), { timeout: 20_000 }).toBeGreaterThan(3);
    await screenshot('viewer-jpeg-lossless');
  });

  it('opens the MR exam from its CR-IMG report (accession number link)', async () => {
    await page.getByRole('button', { name: '← Retour aux examens' }).click();
    await page.getByRole('row', { name: /IRM cérébrale/ }).getByRole('button', { name: /CR d'imagerie médicale/ }).click();
    // The MR viewer, not the CT one still fading out: its heading, then its first image.
    await page.getByRole('heading', { name: /IRM cérébrale/ }).waitFor();
    await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-first-image-ms'), null, { timeout: 30_000 });
    // The series browser fills in as the KOS series are resolved.
    await expect.poll(() => page.locator('.viewer-series-item').count(), { timeout: 15_000 }).toBeGreaterThan(1);
    expect((await canvasStats()).levels).toBeGreaterThan(10);
    await expect.poll(async () => Math.min(...(await thumbnailLevels())), { timeout: 20_000 }).toBeGreaterThan(10);
    await screenshot('viewer-mr-from-report');
  });

  it('opens local DICOM files (decoded in the browser) and a local KOS file (resolved by main)', async () => {
    const samples = '/usr/lib/python3/dist-packages/pydicom/data/test_files';
    await page.getByRole('button', { name: '← Retour aux examens' }).click();
    await page.getByTestId('imaging-files').setInputFiles(['CT_small.dcm', 'MR_small_RLE.dcm', 'JPEG2000.dcm'].map((f) => path.join(samples, f)).filter((f) => fs.existsSync(f)));
    await page.getByRole('heading', { name: /Fichiers locaux/ }).waitFor();
    await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-first-image-ms'), null, { timeout: 30_000 });
    expect((await canvasStats()).levels).toBeGreaterThan(10);
    expect(await page.locator('.viewer-series-item').count()).toBeGreaterThanOrEqual(2);
    for (const item of await page.locator('.viewer-series-item').all()) {
      await item.click();
      await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-first-image-ms'), null, { timeout: 30_000 });
      expect((await canvasStats()).levels).toBeGreaterThan(10);
    }
    await screenshot('viewer-local-files');
    // A KOS on a CD: main parses it and streams its images from the PACS it names.
    const kosFile = (manager.status() as unknown as { pacs: { studies: { key: string; kosFile: string }[] } }).pacs.studies.find((x) => x.key === 'mr-brain')!.kosFile;
    await page.getByRole('button', { name: '← Retour aux examens' }).click();
    await page.getByTestId('imaging-files').setInputFiles(kosFile);
    await page.getByRole('heading', { name: /KOS local/ }).waitFor();
    await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-first-image-ms'), null, { timeout: 30_000 });
    expect((await canvasStats()).levels).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });
});
