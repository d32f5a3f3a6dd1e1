import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_CHROMIUM, RESULTS_DIR, SCREENSHOTS_DIR } from '../support/browser';
import { openApp, type AppUnderTest } from '../support/harness';
import { tempDir } from '../support/tmp';

describe.skipIf(!HAS_CHROMIUM)('app shell in Chromium (browser harness)', () => {
  const tmp = tempDir();
  let app: AppUnderTest;
  const errors: string[] = [];

  beforeAll(async () => {
    app = await openApp(tmp.dir);
    app.page.on('pageerror', (e) => errors.push(String(e)));
    app.page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
  });
  afterAll(async () => {
    await app?.close();
    tmp.cleanup();
  });

  it('renders the French shell', async () => {
    const { page } = app;
    await page.getByRole('heading', { name: 'Accueil' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Navigation principale' });
    for (const label of ['Accueil', 'Partager', 'Messagerie', 'Dossier DMP', 'Imagerie', 'Traces', 'Paramètres']) {
      await expect(nav.getByRole('button', { name: label })).toBeTruthy();
      expect(await nav.getByRole('button', { name: label }).count()).toBe(1);
    }
    expect(await page.getAttribute('html', 'lang')).toBe('fr');
    await page.getByTestId('profile-badge').waitFor();
    expect(await page.getByTestId('profile-badge').textContent()).toBe('Bac à sable');
  });

  it('does an API round trip through the same handlers', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Vérifier la liaison avec le service local' }).click();
    const echo = page.getByTestId('echo');
    await echo.waitFor();
    expect(await echo.textContent()).toMatch(/Service local joignable \(réponse « Bonjour »/);
  });

  it('shows audit rows pushed live by the event stream', async () => {
    const { page, core } = app;
    await page.getByRole('button', { name: 'Traces' }).click();
    await page.getByRole('heading', { name: 'Traces' }).waitFor();
    core.audit.append({ actor: 'Dr Test', action: 'e2e.check', subject: 'ligne-de-test', outcome: 'success' });
    await page.getByText('ligne-de-test').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: "Vérifier l'intégrité" }).click();
    await page.getByText(/Intégrité vérifiée/).waitFor();
  });

  it('writes a screenshot of the shell', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Accueil' }).click();
    await page.getByRole('heading', { name: 'Accueil' }).waitFor();
    fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    const file = path.join(SCREENSHOTS_DIR, 'shell-accueil.png');
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
    expect(RESULTS_DIR).toBe(path.dirname(SCREENSHOTS_DIR));
  });

  it('raised no error in the page (CSP violations included)', () => {
    expect(errors).toEqual([]);
  });
});
