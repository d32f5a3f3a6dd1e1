/**
 * The GP's DMP record journey in Chromium (browser harness, strict CSP) against the sandbox identity + DMP test
 * server: the DMP status of the current patient with its clear states, the authorization after the patient's
 * consent, the filtered document list, a document opened, masked (badge), replaced by a new version from a PDF,
 * deleted (gone from the default list); the imaging tab; a closed DMP. Screenshots: test-results/screenshots/dmp-*.png.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildCda } from '../../src/main/documents';
import { dmpSandboxService } from '../../src/main/dmp/sandbox-service';
import { softhsmModule } from '../../src/main/identity/card/softhsm';
import { identitySandboxService } from '../../src/main/identity/sandbox-service';
import { SandboxManager } from '../../src/main/sandbox/manager';
import { tinyPdf } from '../integration/dmp/pdf';
import { HAS_CHROMIUM, SCREENSHOTS_DIR } from '../support/browser';
import { openApp, type AppUnderTest } from '../support/harness';
import { HAS_SHARED } from '../support/shared';
import { tempDir } from '../support/tmp';

const TROIS = '279035121518989'; // ACTIF / VALIDE, imaging + masked + archived documents
const MARTIN = '185067512300159'; // ACTIF / NON_EXISTE
const PETIT = '266121357900485'; // FERME

describe.skipIf(!HAS_CHROMIUM || !HAS_SHARED || !softhsmModule())('DMP record in Chromium (identity + DMP sandbox)', () => {
  const tmp = tempDir('lps-e2e-dmp-');
  let manager: SandboxManager;
  let app: AppUnderTest;
  let page: Page;
  let ourTitle = '';
  const problems: string[] = [];
  let shot = 0;

  const screenshot = async (name: string) => {
    fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    const file = path.join(SCREENSHOTS_DIR, `dmp-${String(++shot).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
  };
  const nav = (label: string) => page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('button', { name: label }).click();
  const selectPatient = async (family: string) => {
    await nav('Patients');
    await page.locator('#patient-search').fill(family);
    await page.locator('#patient-search').press('Enter');
    await page.locator('.list-item', { hasText: family }).first().click();
    await page.locator('.list-item.selected', { hasText: family }).waitFor();
    await nav('Dossier DMP');
    await page.getByRole('heading', { name: 'Dossier médical partagé (DMP)' }).waitFor();
    await page.getByTestId('patient-banner').getByText(family).waitFor();
  };
  const rows = () => page.getByRole('table', { name: 'Documents du DMP' }).getByTestId('dmp-doc-row');

  beforeAll(async () => {
    if (fs.existsSync(SCREENSHOTS_DIR)) for (const f of fs.readdirSync(SCREENSHOTS_DIR)) if (/^dmp-.*\.png$/.test(f)) fs.rmSync(path.join(SCREENSHOTS_DIR, f));
    manager = new SandboxManager({ dataDir: tmp.dir, services: [identitySandboxService, dmpSandboxService] });
    await manager.up();
    app = await openApp(tmp.dir, { width: 1280, height: 720 });
    page = app.page;
    page.on('pageerror', (e) => problems.push(`pageerror: ${String(e)}`));
    page.on('console', (m) => {
      if (/Content Security Policy|Refused to/.test(m.text())) problems.push(m.text());
    });
    const profile = manager.status() as unknown as { dmp: { practitioner: { nameId: string } }; pki: { org: { structureId: string; name: string } } };
    // Local patients (qualified INS), as the GP has them in the practice software.
    const patients = [
      { ins: TROIS, birthFamily: 'PAT-TROIS', firstGiven: 'DOMINIQUE', gender: 'F', birthDate: '1979-03-28' },
      { ins: MARTIN, birthFamily: 'MARTIN', firstGiven: 'PIERRE', gender: 'M', birthDate: '1985-06-23' },
      { ins: PETIT, birthFamily: 'PETIT', firstGiven: 'ANNE', gender: 'F', birthDate: '1966-12-07' },
    ] as const;
    for (const p of patients) await app.core.registry.call('patients.upsert', { ...p, insOid: '1.2.250.1.213.1.4.10', insQualified: true });
    // A consultation report of this GP, already in PAT-TROIS's DMP (as the sharing wizard would have published it).
    const pdfFile = path.join(tmp.dir, 'cr.pdf');
    fs.writeFileSync(pdfFile, tinyPdf('Compte rendu de consultation - Dominique PAT-TROIS'));
    ourTitle = 'Compte rendu de consultation du 12 mars';
    const cda = buildCda(
      {
        patient: { ins: TROIS, insOid: '1.2.250.1.213.1.4.10', insQualified: true, birthFamily: 'PAT-TROIS', birthGiven: 'DOMINIQUE', firstGiven: 'DOMINIQUE', gender: 'F', birthDate: '1979-03-28' },
        author: {
          idNat: profile.dmp.practitioner.nameId, family: 'MEDECIN', given: 'Claire', profession: '10', specialty: 'SM26',
          organization: { id: profile.pki.org.structureId, name: profile.pki.org.name },
        },
        document: { typeCode: '11488-4', title: ourTitle, pdf: pdfFile, serviceStart: '2026-03-12T10:00:00+01:00', facilityType: 'SA07', practiceSetting: 'AMBULATOIRE' },
      },
      { baseDir: tmp.dir },
    );
    const r = await app.core.registry.call('dmp.publish', { cdaBase64: cda.bytes.toString('base64') });
    expect(r.outcome).toBe('published');
  }, 180_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page) await page.screenshot({ path: path.join(SCREENSHOTS_DIR, `dmp-failure-${ctx.task.name.slice(0, 24).replace(/\W+/g, '-')}.png`) }).catch(() => undefined);
  });

  afterAll(async () => {
    await app?.close();
    await manager?.down();
    tmp.cleanup();
  });

  it('no authorization yet: the status says what to do; the GP confirms the patient’s consent and is authorized', async () => {
    await page.getByRole('heading', { name: 'Accueil' }).waitFor();
    await selectPatient('MARTIN');
    const status = page.getByTestId('dmp-status');
    await status.getByText('DMP actif — autorisation d’accès à enregistrer').waitFor({ timeout: 20_000 });
    expect(await status.textContent()).toMatch(/consentement du patient/);
    expect(await page.getByRole('tab', { name: 'Documents' }).count()).toBe(0); // no list before the authorization
    await screenshot('autorisation-manquante');
    await page.getByRole('button', { name: 'Enregistrer l’autorisation d’accès' }).click();
    const dialog = page.getByRole('dialog', { name: 'Consentement du patient' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/Je confirme avoir informé le patient et qu’il ne s’est pas opposé/);
    await screenshot('consentement');
    await dialog.getByRole('button', { name: 'Je confirme : enregistrer l’autorisation' }).click();
    await status.getByText('DMP actif — vous êtes autorisé(e) à y accéder').waitFor({ timeout: 20_000 });
    await page.getByText('Aucun document ne correspond à ces critères.').waitFor({ timeout: 20_000 });
    await screenshot('autorise-dmp-vide');
    const audit = app.core.db.prepare("SELECT outcome FROM audit WHERE action = 'dmp.authorization.add' AND subject = ?").all(MARTIN) as { outcome: string }[];
    expect(audit).toEqual([{ outcome: 'success' }]);
  });

  it('lists the record’s documents and filters them by type, status and date', async () => {
    await selectPatient('PAT-TROIS');
    await page.getByTestId('dmp-status').getByText('DMP actif — vous êtes autorisé(e) à y accéder').waitFor({ timeout: 20_000 });
    await rows().first().waitFor({ timeout: 20_000 });
    const titles = async () => (await rows().locator('.dmp-doc-title').allTextContents()).sort();
    const all = await titles();
    expect(all).toContain(ourTitle);
    expect(all.some((t) => /CR d'imagerie/.test(t))).toBe(true);
    expect(all.some((t) => /archivé/.test(t))).toBe(false); // archived: not in the default list
    expect(all.some((t) => /masqué aux PS/.test(t))).toBe(false); // masked by another author: invisible to us
    await screenshot('liste');

    await page.getByLabel('Type de document').selectOption({ label: "CR d'imagerie médicale" });
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=dmp-doc-row] .dmp-doc-title')].every((e) => /imagerie/i.test(e.textContent ?? '')));
    expect((await titles()).every((t) => /CR d'imagerie/.test(t))).toBe(true);
    await page.getByLabel('Type de document').selectOption('');
    await page.getByLabel('Archivés').check();
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await rows().filter({ hasText: 'Ancien compte rendu (archivé)' }).waitFor();
    expect(await rows().filter({ hasText: 'Ancien compte rendu (archivé)' }).getByTestId('dmp-doc-status').textContent()).toBe('Archivé');
    await screenshot('liste-avec-archives');
    // Date range: up to 31 December 2020, only the 2019 archived report is left.
    await page.getByLabel('Au', { exact: true }).fill('2020-12-31');
    await page.getByRole('button', { name: 'Rechercher' }).click();
    await rows().filter({ hasText: ourTitle }).waitFor({ state: 'detached' });
    expect(await titles()).toEqual(['Ancien compte rendu (archivé)']);
    await page.getByRole('button', { name: 'Réinitialiser' }).click();
    await rows().filter({ hasText: "CR d'imagerie" }).first().waitFor();
  });

  it('opens a document, masks it to the professionals (badge), replaces it with a new version from a PDF', async () => {
    await rows().filter({ hasText: ourTitle }).getByRole('button', { name: ourTitle }).click();
    const view = page.getByTestId('dmp-document-view');
    await view.getByRole('heading', { name: ourTitle }).waitFor({ timeout: 20_000 });
    expect(await view.locator('.dmp-facts').textContent()).toMatch(/CR ou fiche de consultation.*12\/03\/2026.*PAT-TROIS/s);
    // Drawn by PDF.js into canvases (no PDF plugin in Electron), every page.
    await view.locator('[data-testid="dmp-pdf"][data-pages]').waitFor();
    expect(await view.getByTestId('dmp-pdf').locator('canvas').count()).toBeGreaterThan(0);
    await screenshot('document');

    await view.getByRole('button', { name: 'Masquer aux professionnels' }).click();
    const dialog = page.getByRole('dialog', { name: 'Masquer ce document aux professionnels de santé ?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/visible que par son auteur, les médecins traitants du patient et le patient/);
    await screenshot('masquer-confirmation');
    await dialog.getByRole('button', { name: 'Masquer le document' }).click();
    await view.getByTestId('badge-MASQUE_PS').waitFor({ timeout: 20_000 });
    await view.getByRole('button', { name: 'Démasquer' }).waitFor();
    await screenshot('document-masque');

    await view.getByTestId('dmp-new-version-file').setInputFiles({ name: 'cr-corrige.pdf', mimeType: 'application/pdf', buffer: tinyPdf('Compte rendu corrige - version 2') });
    const nv = page.getByRole('dialog', { name: 'Déposer une nouvelle version ?' });
    await nv.waitFor();
    await nv.getByLabel('Titre du document').fill('Compte rendu de consultation du 12 mars (corrigé)');
    await screenshot('nouvelle-version');
    await nv.getByRole('button', { name: 'Déposer la nouvelle version' }).click();
    await view.getByRole('heading', { name: 'Compte rendu de consultation du 12 mars (corrigé)' }).waitFor({ timeout: 30_000 });
    expect(await view.locator('.dmp-facts').textContent()).toMatch(/Version2/);
    await view.getByTestId('badge-MASQUE_PS').waitFor(); // the masking is kept

    await view.getByRole('button', { name: '← Retour à la liste des documents' }).click();
    const row = rows().filter({ hasText: '(corrigé)' });
    await row.getByTestId('badge-MASQUE_PS').waitFor();
    expect(await rows().filter({ hasText: `${ourTitle}Compte` }).count()).toBe(0); // the old version is not a row of its own
    await row.getByRole('button', { name: /Voir 2 versions antérieures/ }).click();
    expect(await page.getByTestId('dmp-old-version').count()).toBe(2);
    expect(await page.getByTestId('dmp-old-version').first().textContent()).toMatch(/remplacée/);
    await screenshot('versions-groupees');
  });

  it('deletes the document after confirmation: gone from the default list', async () => {
    await rows().filter({ hasText: '(corrigé)' }).getByRole('button', { name: /corrigé/ }).click();
    const view = page.getByTestId('dmp-document-view');
    await view.getByRole('button', { name: 'Supprimer' }).click();
    const dialog = page.getByRole('dialog', { name: 'Supprimer ce document du DMP ?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/irréversible/);
    await screenshot('supprimer-confirmation');
    await dialog.getByRole('button', { name: 'Supprimer définitivement' }).click();
    await page.getByRole('table', { name: 'Documents du DMP' }).waitFor({ timeout: 20_000 });
    await rows().filter({ hasText: "CR d'imagerie" }).first().waitFor();
    await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid=dmp-doc-row]')].some((e) => /12 mars/.test(e.textContent ?? '')));
    expect(await rows().filter({ hasText: '12 mars' }).count()).toBe(0);
    await screenshot('apres-suppression');
  });

  it('the imaging tab lists the exam and opens the viewer screen', async () => {
    await page.getByRole('tab', { name: 'Imagerie' }).click();
    const table = page.getByRole('table', { name: 'Examens d’imagerie du DMP' });
    await table.waitFor({ timeout: 20_000 });
    const exam = table.getByTestId('dmp-exam-row').first();
    expect(await exam.textContent()).toMatch(/Scanner \(CT\)/);
    await screenshot('imagerie');
    await exam.getByRole('button', { name: 'Ouvrir les images' }).click();
    await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('button', { name: 'Imagerie', pressed: undefined }).and(page.locator('[aria-current=page]')).waitFor();
  });

  it('a closed DMP: the clear French message, nothing else to do', async () => {
    await selectPatient('PETIT');
    const status = page.getByTestId('dmp-status');
    await status.getByText('Le DMP de ce patient est fermé', { exact: true }).waitFor({ timeout: 20_000 });
    expect(await status.textContent()).toMatch(/aucun dépôt ni consultation possible.*Fermé le 15 janvier 2024 — motif : Fermeture à la demande du patient/s);
    expect(await page.getByRole('tab', { name: 'Documents' }).count()).toBe(0);
    await screenshot('dmp-ferme');
    expect(problems).toEqual([]);
  });
});
