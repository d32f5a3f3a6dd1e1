/**
 * Sign-in journey in Chromium against the real identity sandbox (SoftHSM CPS token, PSC provider), in a
 * private data dir (the shared sandbox token is never touched): CPS card with a wrong PIN then the right one,
 * lock on card removal, Pro Santé Connect through the sandbox login page with the choice of activity, and the
 * settings screen. Screenshots: test-results/screenshots/signin-*.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { softhsmModule } from '../../src/main/identity/card/softhsm';
import { identitySandboxService, type IdentityProfileSections } from '../../src/main/identity/sandbox-service';
import { SandboxManager } from '../../src/main/sandbox/manager';
import { HAS_CHROMIUM, SCREENSHOTS_DIR } from '../support/browser';
import { openApp, type AppUnderTest } from '../support/harness';
import { tempDir } from '../support/tmp';

describe.skipIf(!HAS_CHROMIUM || !softhsmModule())('sign-in in Chromium: CPS card, lock, Pro Santé Connect, settings', () => {
  const tmp = tempDir('lps-e2e-signin-');
  let manager: SandboxManager;
  let profile: IdentityProfileSections;
  let app: AppUnderTest;
  const errors: string[] = [];

  const shot = async (page: Page, name: string) => {
    fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    const file = path.join(SCREENSHOTS_DIR, `signin-${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
  };

  beforeAll(async () => {
    manager = new SandboxManager({ dataDir: tmp.dir, services: [identitySandboxService] });
    profile = (await manager.up()) as unknown as IdentityProfileSections;
    app = await openApp(tmp.dir);
    app.page.on('pageerror', (e) => errors.push(String(e)));
  });
  afterAll(async () => {
    await app?.close();
    await manager?.down();
    tmp.cleanup();
  });

  it('CPS card: a wrong PIN shows the remaining tries, 1234 signs in and shows the holder', async () => {
    const { page } = app;
    await page.getByRole('heading', { name: 'Accueil' }).waitFor();
    // Sandbox: a screen acting with the national services reminds the user to sign in (production requires it).
    await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('button', { name: 'Messagerie' }).click();
    await page.getByRole('button', { name: 'S’identifier' }).click();
    await page.getByRole('heading', { name: 'Connexion' }).waitFor();
    const card = page.getByTestId('signin-card');
    await card.getByTestId('card-reader-state').filter({ hasText: 'Carte insérée' }).waitFor();
    expect(await card.getByTestId('card-holder').textContent()).toContain('Dr Claire DURAND');

    const pin = page.getByLabel('Code PIN', { exact: true });
    await pin.fill('0000');
    await page.getByRole('button', { name: 'Valider le code PIN' }).click();
    const err = page.getByTestId('pin-error');
    await err.waitFor();
    expect(await err.textContent()).toMatch(/Code PIN incorrect\. Il reste 2 essai\(s\)/);
    expect(await pin.inputValue()).toBe(''); // cleared after the attempt, never retried
    expect(await page.getByText(/Essais restants avant blocage : 2/).count()).toBe(1);
    await shot(page, 'card-wrong-pin');

    await pin.fill('1234');
    await page.getByRole('button', { name: 'Valider le code PIN' }).click();
    const who = page.getByTestId('session-name');
    await who.waitFor();
    expect(await who.textContent()).toBe('Dr Claire DURAND');
    expect(await page.getByTestId('session-header').textContent()).toContain('CABINET MEDICAL DU BAC A SABLE');
    await page.getByRole('heading', { name: 'Connexion' }).waitFor({ state: 'detached' });
    await shot(page, 'card-signed-in');
  });

  it('locks when the card is removed (main refuses privileged calls) and unlocks with the PIN', async () => {
    const { page, core } = app;
    // The reader reports the removal (CardService → core events): SoftHSM tokens cannot be pulled out.
    core.events.emit('identity.card', { kind: 'removed', status: { present: false, module: profile.card.module, loggedIn: false } });
    const lock = page.getByTestId('lock-screen');
    await lock.getByRole('heading', { name: 'Session verrouillée' }).waitFor();
    expect(await core.registry.invoke('patients.list', {}, { transport: 'harness' })).toMatchObject({ ok: false, error: { code: 'SESSION_LOCKED' } });
    await lock.getByRole('button', { name: 'Déverrouiller' }).waitFor(); // the card is still in the reader
    await shot(page, 'locked');
    await lock.getByLabel('Code PIN', { exact: true }).fill('1234');
    await lock.getByRole('button', { name: 'Déverrouiller' }).click();
    await lock.getByRole('heading', { name: 'Session verrouillée' }).waitFor({ state: 'detached' });
    expect(await core.registry.invoke('patients.list', {}, { transport: 'harness' })).toMatchObject({ ok: true });
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    await page.getByRole('button', { name: 'Se connecter', exact: true }).waitFor();
  });

  it('Pro Santé Connect: the sandbox login page opens in a new tab, then the choice of activity', async () => {
    const { page } = app;
    await page.getByRole('button', { name: 'Se connecter', exact: true }).click();
    const popupPromise = page.context().waitForEvent('page');
    await page.getByRole('button', { name: 'Se connecter avec Pro Santé Connect' }).click();
    const psc = await popupPromise;
    await psc.waitForSelector('#login');
    await page.getByTestId('psc-waiting').waitFor();
    await psc.fill('#login', profile.psc.practitioner.login);
    await psc.fill('#password', profile.psc.practitioner.password);
    await shot(psc, 'psc-login-page');
    await psc.click('#submit');
    await psc.waitForSelector('#lps-result');
    expect(await psc.textContent('#lps-result')).toContain('Connexion réussie');
    await psc.close();

    await page.getByRole('heading', { name: 'Choix de l’activité' }).waitFor();
    await page.getByLabel(/CENTRE DE SANTE DU BAC A SABLE/).check();
    await shot(page, 'psc-activity');
    await page.getByRole('button', { name: 'Continuer' }).click();
    const header = page.getByTestId('session-header');
    await header.filter({ hasText: 'CENTRE DE SANTE DU BAC A SABLE' }).waitFor();
    expect(await header.textContent()).toContain('Pro Santé Connect');
    expect(await page.getByTestId('session-name').textContent()).toBe('Dr Claire DURAND');
    await shot(page, 'psc-signed-in');
  });

  it('settings: profile, accounts, card module, X-MSS-NIL (validated, editable)', async () => {
    const { page, core } = app;
    await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('button', { name: 'Paramètres' }).click();
    await page.getByRole('heading', { name: 'Paramètres', level: 1 }).waitFor();
    expect(await page.getByRole('radio', { name: /Bac à sable/ }).isChecked()).toBe(true);
    expect(await page.getByTestId('settings-profile-state').textContent()).toContain('bac à sable démarré');
    expect(await page.getByTestId('settings-nil').textContent()).toBe('LPS-COMPANION-DEV');
    await page.getByText(profile.card.module, { exact: true }).first().waitFor();

    const nil = page.getByLabel('Modifier l’identifiant logiciel (X-MSS-NIL)');
    await nil.fill('LPS ÉTÉ');
    await page.locator('#settings-about').getByRole('button', { name: 'Enregistrer' }).click();
    await page.locator('#settings-about').getByText(/de 1 à 64 caractères imprimables/).waitFor();
    await nil.fill('LPS-E2E-0042');
    await page.locator('#settings-about').getByRole('button', { name: 'Enregistrer' }).click();
    await page.getByTestId('settings-nil').filter({ hasText: 'LPS-E2E-0042' }).waitFor();
    expect(core.settings.get('mssante.nil')).toBe('LPS-E2E-0042');

    // A DMP endpoint over plain http is refused with a specific message; nothing is stored.
    await page.getByLabel('Adresse du service DMP (https)').fill('http://dmp.example/');
    await page.getByLabel('Certificat d’authentification (.p12)').fill(profile.pki.org.authP12);
    await page.getByLabel('Certificat de signature (.p12)').fill(profile.pki.org.signP12);
    await page.getByLabel('Mot de passe des certificats').fill('mauvais');
    await page.locator('#settings-dmp').getByRole('button', { name: 'Vérifier et enregistrer' }).click();
    await page.locator('#settings-dmp').getByText(/doit commencer par https/).waitFor();
    expect(await page.getByLabel('Mot de passe des certificats').inputValue()).toBe('');

    // The online national annuaire (production settings): an address over http is refused, the key never re-shown.
    await page.getByLabel('Adresse de l’API (https)').fill('http://annuaire.example/fhir');
    await page.locator('#settings-directory').getByRole('button', { name: 'Enregistrer' }).click();
    await page.locator('#settings-directory').getByRole('alert').getByText(/doit commencer par https/).waitFor();
    await page.getByLabel('Adresse de l’API (https)').fill('https://annuaire.example/fhir/v2/');
    await page.getByLabel('Clé d’API (ESANTE-API-KEY)').fill('cle-de-test-0123');
    await page.locator('#settings-directory').getByRole('button', { name: 'Enregistrer' }).click();
    await page.locator('#settings-directory').getByText('Annuaire national en ligne enregistré.').waitFor();
    expect(await page.getByLabel('Clé d’API (ESANTE-API-KEY)').inputValue()).toBe('');
    expect(core.settings.get<{ baseUrl?: string }>('mssante.directory.online')?.baseUrl).toBe('https://annuaire.example/fhir/v2');
    await page.getByRole('heading', { name: 'Paramètres', level: 1 }).scrollIntoViewIfNeeded();
    await shot(page, 'settings');
  });

  it('sign-out ends the PSC session in a new tab; in production, screens acting for the practitioner require sign-in', async () => {
    const { page, core } = app;
    const tab = page.context().waitForEvent('page');
    await page.getByRole('button', { name: 'Se déconnecter' }).click();
    const logout = await tab; // PSC end-session page, then the loopback confirmation
    await page.getByRole('button', { name: 'Se connecter', exact: true }).waitFor();
    await logout.waitForSelector('#lps-result', { timeout: 15_000 });
    expect(await logout.textContent('#lps-result')).toContain('Vous êtes déconnecté');
    await logout.close();

    core.profiles.saveProduction({ configuredAt: new Date().toISOString() });
    core.settings.set('profile.active', 'production');
    try {
      await page.reload();
      await page.getByTestId('profile-badge').filter({ hasText: 'Production' }).waitFor();
      await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('button', { name: 'Messagerie' }).click();
      await page.getByRole('heading', { name: 'Connexion' }).waitFor();
      expect(await page.getByText('Cet écran agit en votre nom').count()).toBe(1);
      await shot(page, 'production-gate');
    } finally {
      core.settings.set('profile.active', 'sandbox');
    }
  });

  it('raised no error in the page', () => {
    expect(errors).toEqual([]);
  });
});
