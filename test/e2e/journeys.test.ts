/**
 * The three daily journeys, in Chromium on the browser harness, against the FULL sandbox started once here
 * (identity: test CPS + PSC; MSSanté: Dovecot + Postfix; the DMP test server; the PACS: Orthanc + DICOMweb):
 *  (a) the GP (Dr Claire DURAND, CPS card) sends a consultation report in Y mode — MSSanté to the hospital's
 *      application mailbox AND the patient's DMP, in parallel; then a second report whose DMP deposit fails
 *      (authorization withdrawn after the check) and is resumed without a second MSSanté send;
 *  (b) the hospital's inbox (its own app instance and database) integrates it automatically (qualified INS), and
 *      the GP sees it delivered and integrated in "Envoyés";
 *  (c) a radiologist opens a prior CT from the patient's DMP in the viewer.
 * Screenshots: test-results/screenshots/journey-{gp,hospital,radiologist}-*.png.
 *
 * LPS_JOURNEYS_DATA_DIR=<dir> reuses a sandbox already started there (`lps sandbox up`; development only).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { softhsmModule } from '../../src/main/identity/card/softhsm';
import { ORTHANC_BIN } from '../../src/main/imaging/orthanc';
import { pacsDir } from '../../src/main/imaging/sandbox-seed';
import { SandboxManager } from '../../src/main/sandbox/manager';
import { HAS_CHROMIUM, SCREENSHOTS_DIR } from '../support/browser';
import { openApp, type AppUnderTest } from '../support/harness';
import { tempDir } from '../support/tmp';

const INS = '279035121518989';
const INS_OID = '1.2.250.1.213.1.4.10';
const HOSPITAL = 'pfi.ch-sandbox@sandbox.mssante.fr';
const GP_MAILBOX = 'claire.durand@sandbox.mssante.fr';
const CT_CACHE = path.join(os.tmpdir(), 'lps-e2e-imaging-ct-phantom');
const HAS_MAIL = ['/usr/sbin/dovecot', '/usr/sbin/postfix'].every((p) => fs.existsSync(p));
const VIEWPORT = { width: 1280, height: 720 };

/** A consultation report as a GP's software prints it (PDF). */
function consultationPdf(title: string, lines: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 56, info: { Title: title } });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.fontSize(10).text('Dr Claire DURAND — Médecin généraliste — CABINET MEDICAL DU BAC A SABLE', { align: 'right' });
    doc.moveDown(2).fontSize(16).text(title);
    doc.moveDown().fontSize(11).text('Patiente : Mme PAT-TROIS Dominique, née le 28/03/1979');
    doc.moveDown();
    for (const l of lines) doc.text(l).moveDown(0.5);
    doc.end();
  });
}

const FLAGS = { gp: false };

describe.skipIf(!HAS_CHROMIUM || !HAS_MAIL || !softhsmModule() || !fs.existsSync(ORTHANC_BIN))('journeys: GP Y-mode share, hospital integration, radiologist viewer (full sandbox)', () => {
  const tmp = tempDir('lps-e2e-journeys-');
  const reuse = process.env.LPS_JOURNEYS_DATA_DIR;
  const dataDir = reuse ?? path.join(tmp.dir, 'gp');
  const hospitalDir = path.join(tmp.dir, 'hospital');
  let manager: SandboxManager | undefined;
  let gp: AppUnderTest;
  let hospital: AppUnderTest | undefined;
  let page: Page;
  const problems: string[] = [];
  const shots: Record<string, number> = {};
  let firstJob = '';
  let secondJob = '';

  const screenshot = async (p: Page, journey: 'gp' | 'hospital' | 'radiologist', name: string) => {
    fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    shots[journey] = (shots[journey] ?? 0) + 1;
    const file = path.join(SCREENSHOTS_DIR, `journey-${journey}-${String(shots[journey]).padStart(2, '0')}-${name}.png`);
    await p.screenshot({ path: file, fullPage: true });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
  };
  const watch = (p: Page, who: string) => {
    p.on('pageerror', (e) => problems.push(`${who} pageerror: ${String(e)}`));
    p.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy|Refused to/.test(m.text())) problems.push(`${who}: ${m.text()}`);
    });
  };
  const nav = (p: Page, name: string) => p.getByRole('navigation', { name: 'Navigation principale' }).getByRole('button', { name, exact: true }).click();
  const closeToasts = async (p: Page) => {
    for (let n = await p.getByRole('button', { name: 'Fermer la notification' }).count(); n > 0; n--) {
      await p.getByRole('button', { name: 'Fermer la notification' }).first().click().catch(() => undefined);
    }
  };
  const signInWithCard = async (p: Page) => {
    await p.getByRole('button', { name: 'Se connecter', exact: true }).click();
    await p.getByRole('heading', { name: 'Connexion' }).waitFor();
    await p.getByText('Carte insérée').waitFor({ timeout: 30_000 });
    await p.getByLabel('Code PIN', { exact: true }).fill('1234');
    await p.getByRole('button', { name: 'Valider le code PIN' }).click();
    await p.getByTestId('session-name').waitFor();
  };
  const selectPatient = async (p: Page) => {
    await nav(p, 'Patients');
    await p.locator('#patient-search').fill('PAT-TROIS');
    await p.locator('#patient-search').press('Enter');
    await p.locator('.list-item', { hasText: 'PAT-TROIS' }).first().click();
    await p.locator('.list-item.selected', { hasText: 'PAT-TROIS' }).waitFor();
  };
  const outboxOf = (jobId: string) => gp.core.db.prepare('SELECT id, status, attempts FROM mss_outbox WHERE id = ?').all(`share-${jobId}`) as { id: string; status: string; attempts: number }[];

  beforeAll(async () => {
    if (fs.existsSync(SCREENSHOTS_DIR)) for (const f of fs.readdirSync(SCREENSHOTS_DIR)) if (/^journey-.*\.png$/.test(f)) fs.rmSync(path.join(SCREENSHOTS_DIR, f));
    if (!reuse) {
      manager = new SandboxManager({ dataDir });
      // The 300-slice CT is slow to generate (~45 s): shared with the imaging e2e cache, outside the repo.
      const ctDir = path.join(pacsDir(manager.sandboxDir), 'ct-phantom');
      if (fs.existsSync(path.join(CT_CACHE, 'manifest.json'))) fs.cpSync(CT_CACHE, ctDir, { recursive: true });
      await manager.up();
      if (!fs.existsSync(path.join(CT_CACHE, 'manifest.json')) && fs.existsSync(ctDir)) fs.cpSync(ctDir, CT_CACHE, { recursive: true });
    }
    gp = await openApp(dataDir, VIEWPORT);
    page = gp.page;
    watch(page, 'gp');
    const call = gp.core.registry.call.bind(gp.core.registry);
    // The GP's local patient (qualified INS, as after an INSi check) and the directory extraction of the sandbox.
    await call('patients.upsert', { ins: INS, insOid: INS_OID, insQualified: true, birthFamily: 'PAT-TROIS', birthGivens: 'DOMINIQUE MARIE-LOUISE', firstGiven: 'DOMINIQUE', gender: 'F', birthDate: '1979-03-28', birthPlace: '51215' });
    const profile = gp.core.sandbox.status() as { mail?: { directoryFile?: string } };
    if (profile.mail?.directoryFile) await call('mssante.directory.import', { file: profile.mail.directoryFile });
    // Each run starts with the GP authorized on the patient's DMP (a previous development run may have changed it).
    await call('dmp.authorize', { ins: INS });
  }, 240_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail' && page) await page.screenshot({ path: path.join(SCREENSHOTS_DIR, `journey-failure-${ctx.task.name.slice(0, 30).replace(/\W+/g, '-')}.png`) }).catch(() => undefined);
  });

  afterAll(async () => {
    await hospital?.close().catch(() => undefined);
    await gp?.close().catch(() => undefined);
    await manager?.down();
    tmp.cleanup();
  }, 60_000);

  it('(a) the GP sends a consultation report in Y mode: MSSanté and DMP in parallel, both succeed', async () => {
    await page.getByRole('heading', { name: 'Accueil' }).waitFor();
    await signInWithCard(page);
    await selectPatient(page);
    await nav(page, 'Partager');
    await page.getByRole('heading', { name: 'Partager un document', level: 1 }).waitFor();

    const pdf = await consultationPdf('Compte rendu de consultation', [
      'Motif : suivi d’une hypertension artérielle essentielle.',
      'Examen : TA 132/84 mmHg, FC 72/min, auscultation cardio-pulmonaire normale.',
      'Conclusion : HTA contrôlée sous amlodipine 5 mg. Bilan biologique annuel prescrit.',
      'Avis cardiologique demandé (Service de cardiologie, CH du bac à sable).',
    ]);
    await page.getByLabel('Fichier PDF ou CDA').setInputFiles({ name: 'CR-consultation-PAT-TROIS.pdf', mimeType: 'application/pdf', buffer: pdf });
    expect(await page.getByLabel('Type de document').inputValue()).toBe('11488-4');
    expect(await page.getByLabel('Titre').inputValue()).toBe('Compte rendu de consultation');
    await page.getByRole('button', { name: 'Préparer le document' }).click();
    const draft = page.getByTestId('share-draft');
    await draft.waitFor();
    expect(await draft.textContent()).toMatch(/DURAND/);
    expect(await draft.textContent()).toMatch(/CABINET MEDICAL DU BAC A SABLE/);
    expect(await draft.textContent()).toMatch(/279035121518989, qualifiée/);
    await screenshot(page, 'gp', 'document-pret');

    await page.getByRole('button', { name: 'Suivant' }).click();
    await page.getByRole('heading', { name: 'Canaux', level: 2 }).waitFor();
    expect(await page.getByLabel(/Messagerie sécurisée de santé/).isChecked()).toBe(true);
    expect(await page.getByLabel(/Dossier médical partagé/).isChecked()).toBe(true);
    await screenshot(page, 'gp', 'canaux');

    await page.getByRole('button', { name: 'Suivant' }).click();
    const dmpState = page.getByTestId('share-dmp-state');
    await dmpState.waitFor({ timeout: 30_000 });
    expect(await dmpState.textContent()).toMatch(/DMP actif — autorisation valide/);
    await screenshot(page, 'gp', 'verification-dmp');

    await page.getByRole('button', { name: 'Suivant' }).click();
    await page.getByRole('heading', { name: 'Confidentialité', level: 2 }).waitFor();
    expect(await page.getByLabel(/Visible normalement/).isChecked()).toBe(true);
    await screenshot(page, 'gp', 'confidentialite');

    await page.getByRole('button', { name: 'Suivant' }).click();
    await page.getByRole('heading', { name: 'Destinataires', level: 2 }).waitFor();
    expect(await page.getByLabel('Expéditeur (votre boîte aux lettres)').inputValue()).toBe(GP_MAILBOX);
    await page.getByLabel('Annuaire santé').fill('bac à sable');
    await page.getByLabel('Annuaire santé').press('Enter');
    const results = page.getByRole('list', { name: "Résultats de l'annuaire" });
    await results.waitFor();
    await results.getByRole('listitem').filter({ hasText: HOSPITAL }).getByRole('button', { name: /Ajouter/ }).click();
    await page.getByTestId('share-recipients').getByText(HOSPITAL).waitFor();
    expect(await page.getByText(`${INS}@patient.mssante.fr`).count()).toBe(1);
    await screenshot(page, 'gp', 'destinataires');

    await page.getByRole('button', { name: 'Suivant' }).click();
    expect(await page.getByLabel('Objet').inputValue()).toMatch(/Compte rendu de consultation — PAT-TROIS DOMINIQUE/);
    expect(await page.getByLabel('Message', { exact: true }).inputValue()).toMatch(/Veuillez trouver ci-joint/);
    expect(await page.getByLabel(/Accusé de lecture/).isChecked()).toBe(true);
    await screenshot(page, 'gp', 'message');

    await page.getByRole('button', { name: 'Suivant' }).click();
    await page.getByTestId('share-summary').waitFor();
    await screenshot(page, 'gp', 'recapitulatif');
    await page.getByRole('button', { name: 'Envoyer et déposer dans le DMP' }).click();
    const outcome = page.getByTestId('share-outcome');
    await page.locator('[data-testid=share-outcome][data-state=done]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('share-status-mssante').textContent()).toBe('Réussi');
    expect(await page.getByTestId('share-status-dmp').textContent()).toBe('Réussi');
    expect(await outcome.textContent()).toMatch(/Document déposé dans le DMP/);
    await closeToasts(page);
    await screenshot(page, 'gp', 'envoi-reussi');

    const [job] = await gp.core.registry.call('share.list', { limit: 1 });
    firstJob = job!.id;
    expect(job!.state).toBe('done');
    // The document is in the DMP (TD3.1) with the uniqueId the share reported.
    const found = await gp.core.registry.call('dmp.search', { ins: INS });
    expect(found.documents.some((d) => d.uniqueId === job!.channels.dmp!.result!.uniqueId && d.title === 'Compte rendu de consultation')).toBe(true);
    FLAGS.gp = true;
  });

  it('(a) a DMP failure is resumed with "Reprendre" without a second MSSanté send', async () => {
    expect(FLAGS.gp).toBe(true);
    await page.getByRole('button', { name: 'Partager un autre document' }).click();
    const pdf = await consultationPdf('Compte rendu de consultation', ['Contrôle à 1 mois : TA 128/80 mmHg. Poursuite du traitement.']);
    await page.getByLabel('Fichier PDF ou CDA').setInputFiles({ name: 'CR-controle.pdf', mimeType: 'application/pdf', buffer: pdf });
    await page.getByLabel('Titre').fill('Compte rendu de consultation de contrôle');
    await page.getByRole('button', { name: 'Préparer le document' }).click();
    await page.getByTestId('share-draft').waitFor();
    await page.getByRole('button', { name: 'Suivant' }).click();
    await page.getByRole('button', { name: 'Suivant' }).click();
    await page.getByTestId('share-dmp-state').waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Suivant' }).click();
    await page.getByLabel(/Masqué aux professionnels de santé/).check();
    await page.getByRole('button', { name: 'Suivant' }).click();
    await page.getByLabel('Autre adresse MSSanté').fill(HOSPITAL);
    await page.getByRole('button', { name: 'Ajouter', exact: true }).click();
    await page.getByRole('button', { name: 'Suivant' }).click();
    await page.getByRole('button', { name: 'Suivant' }).click();
    // Meanwhile the GP's authorization on the DMP is withdrawn (TD0.3 removal): the deposit will be refused.
    await gp.core.registry.call('dmp.authorize', { ins: INS, remove: true });
    await page.getByRole('button', { name: 'Envoyer et déposer dans le DMP' }).click();
    await page.locator('[data-testid=share-outcome][data-state=partial]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('share-status-mssante').textContent()).toBe('Réussi');
    expect(await page.getByTestId('share-status-dmp').textContent()).toBe('Échec');
    expect(await page.getByTestId('share-channel-dmp').textContent()).toMatch(/autorisation/i);
    expect(await page.getByText('Messagerie sécurisée : déjà réussi, ne sera pas refait.').count()).toBe(1);
    await closeToasts(page);
    await screenshot(page, 'gp', 'echec-dmp-partiel');

    const [job] = await gp.core.registry.call('share.list', { limit: 1 });
    secondJob = job!.id;
    expect(outboxOf(secondJob)).toMatchObject([{ status: 'sent', attempts: 1 }]);

    await page.getByLabel(/J'ai recueilli le consentement du patient/).check();
    await page.getByRole('button', { name: "Enregistrer l'autorisation et reprendre" }).click();
    await page.locator('[data-testid=share-outcome][data-state=done]').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('share-status-dmp').textContent()).toBe('Réussi');
    expect(await page.getByTestId('share-channel-dmp').textContent()).toMatch(/masqué aux PS/);
    await closeToasts(page);
    await screenshot(page, 'gp', 'reprise-reussie');

    const after = await gp.core.registry.call('share.get', { jobId: secondJob });
    expect(after.channels.mssante).toMatchObject({ status: 'done', attempts: 1 });
    expect(after.channels.dmp).toMatchObject({ status: 'done', attempts: 2 });
    // Exactly one message for this share left the outbox, once.
    expect(outboxOf(secondJob)).toMatchObject([{ status: 'sent', attempts: 1 }]);
    const published = await gp.core.registry.call('dmp.search', { ins: INS });
    const mine = published.documents.filter((d) => d.uniqueId === after.channels.dmp!.result!.uniqueId);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.masking).toContain('MASQUE_PS');
  });

  it('(b) the hospital inbox integrates the report automatically, and the GP sees it integrated in "Envoyés"', async () => {
    expect(firstJob && secondJob).toBeTruthy();
    // The hospital: its own app instance and database, on the same sandbox (mailboxes, DMP, PKI).
    fs.mkdirSync(path.join(hospitalDir, 'sandbox'), { recursive: true });
    fs.copyFileSync(path.join(dataDir, 'sandbox', 'profile.json'), path.join(hospitalDir, 'sandbox', 'profile.json'));
    hospital = await openApp(hospitalDir, VIEWPORT);
    const hp = hospital.page;
    // The hospital's own patient registry knows the patient (admission: qualified INS + its IPP). The sandbox
    // profile's `patients` entries carry DMP fields that the strict patient schema refuses, so the mail service's
    // automatic import of them is skipped: register her as the hospital's admission would.
    await hospital.core.registry.call('patients.upsert', { ins: INS, insOid: INS_OID, insQualified: true, birthFamily: 'PAT-TROIS', birthGivens: 'DOMINIQUE MARIE-LOUISE', firstGiven: 'DOMINIQUE', gender: 'F', birthDate: '1979-03-28', birthPlace: '51215', ipp: '1234567890121', ippOid: '1.2.3.4.567.8.9.10' });
    watch(hp, 'hospital');
    await hp.getByRole('heading', { name: 'Accueil' }).waitFor();
    await nav(hp, 'Messagerie');
    await hp.getByRole('heading', { name: 'Messagerie', level: 1 }).waitFor();
    await hp.getByLabel('Boîte aux lettres').selectOption(HOSPITAL);
    const messages = hp.getByTestId('inbox-message').filter({ hasText: 'PAT-TROIS' });
    const control = messages.filter({ hasText: 'de contrôle' });
    for (let i = 0; i < 40 && ((await messages.count()) < 2 || (await control.count()) < 1); i++) {
      await hp.getByRole('button', { name: 'Relever', exact: true }).click();
      await hp.getByTestId('inbox-sync-summary').or(hp.getByRole('alert')).first().waitFor();
      await hp.getByRole('button', { name: 'Relever', exact: true }).waitFor();
      if ((await messages.count()) >= 2 && (await control.count()) >= 1) break;
      await hp.waitForTimeout(300);
    }
    if (!reuse) expect(await messages.count()).toBe(2);
    expect(await control.count()).toBe(1); // the resumed share's message arrived once
    await screenshot(hp, 'hospital', 'releve-integre');
    await closeToasts(hp);
    await messages.filter({ hasText: /Compte rendu de consultation(?! de contrôle)/ }).first().click();
    const detail = hp.getByTestId('inbox-message-detail');
    await detail.waitFor();
    expect(await detail.getByTestId('inbox-doc-status').first().textContent()).toBe('Intégré');
    expect(await detail.getByTestId('inbox-doc-patient').first().textContent()).toMatch(/PAT-TROIS DOMINIQUE/);
    await screenshot(hp, 'hospital', 'message-integre');
    await detail.getByRole('button', { name: 'Ouvrir le document' }).first().click();
    await hp.getByTestId('inbox-document-view').waitFor();
    await hp.locator('[data-testid="inbox-pdf"][data-pages]').waitFor({ timeout: 30_000 });
    await screenshot(hp, 'hospital', 'document-pdf');

    // The GP: "Envoyés" shows delivery and the integration acknowledgement (MDN) once the GP's mailbox is read.
    await nav(page, 'Messagerie');
    await page.getByRole('heading', { name: 'Messagerie', level: 1 }).waitFor();
    await page.getByLabel('Boîte aux lettres').selectOption(GP_MAILBOX);
    await page.getByRole('tab', { name: /Envoyés/ }).click();
    await page.getByTestId('inbox-sent').waitFor();
    const integrated = async () => (await page.getByTestId('inbox-sent-row').allTextContents()).filter((r) => /Intégré/.test(r)).length >= 2;
    for (let i = 0; i < 40 && !(await integrated()); i++) {
      await page.getByRole('button', { name: 'Relever', exact: true }).click();
      await page.getByRole('button', { name: 'Relever', exact: true }).waitFor();
      if (await integrated()) break;
      await page.waitForTimeout(300);
    }
    expect(await integrated()).toBe(true);
    await closeToasts(page);
    await screenshot(page, 'gp', 'envoyes-integre');
    const view = await gp.core.registry.call('share.get', { jobId: firstJob });
    expect(view.acks?.integration).toBeTruthy();
    // The wizard's recent shares show the acknowledgement too.
    await nav(page, 'Partager');
    await page.getByRole('heading', { name: 'Partages récents' }).waitFor();
    await page.locator('.share-recent tbody tr').first().waitFor();
    await screenshot(page, 'gp', 'partages-recents');
  });

  it('(c) a radiologist opens a prior CT from the DMP in the viewer', async () => {
    // Same practitioner card in the sandbox; the imaging screen lists the DMP's imaging exams (KOS + CR-IMG).
    await nav(page, 'Imagerie');
    const table = page.getByRole('table', { name: "Examens d'imagerie du DMP" });
    await table.waitFor({ timeout: 30_000 });
    const ct = table.getByRole('row', { name: /TDM thoraco-abdominale/ });
    await ct.waitFor();
    await screenshot(page, 'radiologist', 'examens-dmp');
    await ct.getByRole('button', { name: 'Ouvrir les images' }).click();
    await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-first-image-ms'), null, { timeout: 60_000 });
    await screenshot(page, 'radiologist', 'premiere-image');
    await page.waitForFunction(() => !!document.querySelector('[data-testid=viewer-viewport]')?.getAttribute('data-full-load-ms'), null, { timeout: 90_000 });
    const vp = page.getByTestId('viewer-viewport');
    await vp.hover();
    for (let i = 0; i < 40; i++) await page.mouse.wheel(0, 120);
    await page.waitForTimeout(300);
    await screenshot(page, 'radiologist', 'serie-complete');
  });

  it('raised no error in the pages (CSP violations included)', () => {
    expect(problems).toEqual([]);
  });
});
