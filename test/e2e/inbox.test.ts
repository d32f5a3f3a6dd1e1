import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCda, buildNewVersion, loadCdaRequest } from '../../src/main/documents';
import { removeSpoolCompanion, startMailServers, type RunningMailServers } from '../../src/main/mssante/mail-servers';
import { ensureLocalMailPki } from '../../src/main/mssante/sandbox-pki';
import { SANDBOX_PATIENT } from '../../src/main/mssante/sandbox-service';
import { freePort } from '../../src/main/sandbox/ports';
import { spawnDetached, stopPid } from '../../src/main/sandbox/processes';
import { HAS_CHROMIUM, SCREENSHOTS_DIR } from '../support/browser';
import { openApp, type AppUnderTest } from '../support/harness';
import { HAS_SHARED, sharedPath } from '../support/shared';
import { tempDir } from '../support/tmp';

/**
 * The hospital side of journey 2, in Chromium on the browser harness, against real Dovecot + Postfix:
 * the GP (PER) sends documents to the hospital application mailbox (APP); "Relever" integrates the one for
 * the known qualified patient automatically, queues the unknown patient's one ("à importer", 902) which is
 * then imported by hand; the document opens (narrative, PDF, versions); a read MDN goes back; the GP's
 * "Envoyés" tab shows delivery, integration, reading and the 902 failure.
 */
const ROOT = path.resolve(__dirname, '../..');
const DOMAIN = 'sandbox.mssante.fr';
const GP = `jean.dupont@${DOMAIN}`;
const HOSPITAL = `pfi.ch-sandbox@${DOMAIN}`;

const HAS_MAIL = ['/usr/sbin/dovecot', '/usr/sbin/postfix'].every((p) => fs.existsSync(p));
/** A structured (level-3) CDA of the ANS for the same test patient: the narrative view (optional fixture). */
const VSM = HAS_SHARED ? sharedPath('fixtures', 'cda-ans', 'VSM_1.4_2022.01.xml') : '';
const CR = 'Compte rendu de consultation';

describe.skipIf(!HAS_CHROMIUM || !HAS_MAIL)('Messagerie: reception, integration, manual import, acknowledgements (Chromium + Dovecot/Postfix)', () => {
  const tmp = tempDir('lps-e2e-inbox-');
  const pids: number[] = [];
  let servers: RunningMailServers | undefined;
  let app: AppUnderTest;
  let page: Page;
  const errors: string[] = [];
  const progress: { label: string; current: number; finished: boolean }[] = [];
  const expected = VSM ? 4 : 3;
  const dataDir = path.join(tmp.dir, 'data');
  const workDir = path.join(tmp.dir, 'work');
  let shot = 0;

  const screenshot = async (name: string, fullPage = true) => {
    fs.mkdirSync(SCREENSHOTS_DIR, { recursive: true });
    const file = path.join(SCREENSHOTS_DIR, `inbox-${String(++shot).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage });
    expect(fs.statSync(file).size).toBeGreaterThan(10_000);
  };

  function cda(name: string, mutate: (req: Record<string, any>) => void = () => {}) {
    const { request, baseDir } = loadCdaRequest(path.join(ROOT, 'examples', 'cda-request.json'));
    const req = JSON.parse(JSON.stringify(request));
    mutate(req);
    const built = buildCda(req, { baseDir });
    const file = path.join(workDir, name);
    fs.writeFileSync(file, built.bytes);
    return { file, built, req, baseDir };
  }

  /** Clicks "Relever" until the list holds `count` messages (LMTP delivery behind Postfix is asynchronous). */
  async function releverUntil(count: number) {
    for (let i = 0; i < 20; i++) {
      await page.getByRole('button', { name: 'Relever', exact: true }).click();
      await page.getByTestId('inbox-sync-summary').or(page.getByRole('alert')).first().waitFor();
      await page.getByRole('button', { name: 'Relever', exact: true }).waitFor();
      if ((await page.getByTestId('inbox-message').count()) >= count) return;
      await page.waitForTimeout(250);
    }
    throw new Error(`fewer than ${count} messages after sync`);
  }

  beforeAll(async () => {
    fs.mkdirSync(workDir, { recursive: true });
    // This run's screenshots only.
    if (fs.existsSync(SCREENSHOTS_DIR)) for (const f of fs.readdirSync(SCREENSHOTS_DIR)) if (/^inbox-.*\.png$/.test(f)) fs.rmSync(path.join(SCREENSHOTS_DIR, f));
    const pki = ensureLocalMailPki(path.join(tmp.dir, 'pki'));
    const ports = { imap: await freePort(), lmtp: await freePort(), submission: await freePort(), submissionApp: await freePort(), auth: await freePort() };
    servers = await startMailServers({
      dir: path.join(tmp.dir, 'mail'),
      host: '127.0.0.1',
      ports,
      pki,
      domains: [DOMAIN, 'patient.mssante.fr'],
      users: [
        { address: GP, password: 'pw-jean' },
        { address: HOSPITAL, password: 'pw-app', requireClientCert: true },
      ],
      spawn: (name, cmd, args, opts) => {
        const pid = spawnDetached({ command: cmd, args, logFile: path.join(tmp.dir, `${name}.out`), env: opts?.env });
        pids.push(pid);
        return pid;
      },
    });
    const acc = (address: string, kind: string, displayName: string, auth: string, password: string, extra: Record<string, unknown> = {}) => ({
      address,
      kind,
      displayName,
      auth,
      password,
      imap: { host: '127.0.0.1', port: ports.imap },
      smtp: { host: '127.0.0.1', port: kind === 'APP' ? ports.submissionApp : ports.submission },
      ...extra,
    });
    const profile = {
      version: 1,
      running: false,
      runDir: path.join(dataDir, 'sandbox', 'run'),
      services: {},
      accounts: [
        acc(GP, 'PER', 'Dr Jean DUPONT', 'password', 'pw-jean'),
        acc(HOSPITAL, 'APP', 'PFI — CH du bac à sable', 'client-cert', 'pw-app', { clientCertificate: { cert: pki.appClientCert, key: pki.appClientKey } }),
      ],
      mail: { caFiles: [pki.caCert] },
      patients: [SANDBOX_PATIENT],
    };
    fs.mkdirSync(path.join(dataDir, 'sandbox'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'sandbox', 'profile.json'), JSON.stringify(profile));

    app = await openApp(dataDir);
    page = app.page;
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    app.core.events.on('task.progress', (p) => {
      if (p.taskId === 'inbox.sync') progress.push({ label: p.label, current: p.current, finished: p.finished });
    });
    const call = app.core.registry.call.bind(app.core.registry);
    // A local patient without INS, target of the manual import.
    await call('patients.upsert', { birthFamily: 'MARTIN', firstGiven: 'PAUL', birthGivens: 'PAUL', gender: 'M', birthDate: '1980-01-15', insQualified: false });
    // The GP sends: v1 then v2 (replacement) for the known patient, and one for an unknown patient.
    const v1 = cda('v1.xml');
    await call('mssante.send', { from: GP, to: [HOSPITAL], cdaFiles: [v1.file], ack: { delivery: true, read: true } });
    const v2 = buildNewVersion(v1.built.parsed, v1.req, { baseDir: v1.baseDir });
    fs.writeFileSync(path.join(workDir, 'v2.xml'), v2.bytes);
    await call('mssante.send', { from: GP, to: [HOSPITAL], cdaFiles: [path.join(workDir, 'v2.xml')], ack: { delivery: true, read: true }, action: 'C' });
    const unknown = cda('unknown.xml', (r) => {
      r.patient.ins = '180127512345678';
      r.patient.insOid = '1.2.250.1.213.1.4.10';
      r.patient.birthFamily = 'MARTIN';
      r.patient.birthGiven = 'PAUL';
      r.patient.firstGiven = 'PAUL';
      r.patient.gender = 'M';
      r.patient.birthDate = '1980-01-15';
      delete r.patient.ipp;
    });
    await call('mssante.send', { from: GP, to: [HOSPITAL], cdaFiles: [unknown.file], ack: { delivery: true, read: true } });
    if (VSM) await call('mssante.send', { from: GP, to: [HOSPITAL], cdaFiles: [VSM], ack: { delivery: true, read: false } });
  });

  afterAll(async () => {
    await app?.close().catch(() => {});
    for (const pid of pids.reverse()) await stopPid(pid);
    removeSpoolCompanion(servers?.spoolDir);
    tmp.cleanup();
  });

  it('opens the Messagerie of the hospital mailbox, empty before the first sync', async () => {
    await page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('button', { name: 'Messagerie' }).click();
    await page.getByRole('heading', { name: 'Messagerie', level: 1 }).waitFor();
    await page.getByLabel('Boîte aux lettres').selectOption(HOSPITAL);
    await page.getByText('Aucun message reçu pour l’instant.').waitFor();
    await screenshot('boite-vide');
  });

  it('"Relever" integrates the known patient automatically and queues the unknown one', async () => {
    await releverUntil(expected);
    const summary = await page.getByTestId('inbox-sync-summary').textContent();
    expect(summary).toMatch(/Relève terminée : \d+ nouveau\(x\) message\(s\)/);
    // Progress from main while syncing (task.progress), counting the messages, then its end.
    expect(progress.some((p) => !p.finished && p.current > 0 && /message\(s\) traité\(s\)/.test(p.label))).toBe(true);
    expect(progress.at(-1)).toMatchObject({ finished: true, current: expected });
    // The toast for new documents.
    await page.getByText('Nouveau document intégré').first().waitFor();
    const items = page.getByTestId('inbox-message');
    expect(await items.count()).toBe(expected);
    await expect(items.filter({ hasText: 'PAT-TROIS' }).filter({ hasText: CR }).first().textContent()).resolves.toMatch(/Intégré/);
    await expect(items.filter({ hasText: 'MARTIN' }).textContent()).resolves.toMatch(/À importer/);
    await screenshot('releve');
    // The user closes the notifications.
    for (let n = await page.getByRole('button', { name: 'Fermer la notification' }).count(); n > 0; n--) {
      await page.getByRole('button', { name: 'Fermer la notification' }).first().click();
    }
  });

  it('shows an integrated message with its document and the local record', async () => {
    // Newest PAT-TROIS message first: the replacement (v2).
    await page.getByTestId('inbox-message').filter({ hasText: 'PAT-TROIS' }).filter({ hasText: CR }).first().click();
    const detail = page.getByTestId('inbox-message-detail');
    await detail.waitFor();
    expect(await detail.getByTestId('inbox-doc-status').textContent()).toBe('Intégré');
    expect(await detail.getByTestId('inbox-doc-patient').textContent()).toMatch(/PAT-TROIS DOMINIQUE/);
    // v2 of the same body: a new version (metadata update, since the example's body is unchanged).
    expect(await detail.textContent()).toMatch(/(Nouvelle version|Mise à jour des métadonnées) · version 2/);
    await screenshot('message-integre');
  });

  it('opens the document: its PDF, and the previous version it replaced', async () => {
    await page.getByRole('button', { name: 'Ouvrir le document' }).click();
    const view = page.getByTestId('inbox-document-view');
    await view.getByRole('heading', { name: CR }).waitFor();
    // A level-1 CDA whose body is a PDF opens on the PDF, shown from a blob: URL (object/embed are forbidden).
    expect(await view.getByRole('tab', { name: 'PDF' }).getAttribute('aria-selected')).toBe('true');
    // Drawn by PDF.js into canvases (no PDF plugin), every page, with a download link (blob: URL).
    const pdf = page.locator('[data-testid="inbox-pdf"][data-pages]');
    await pdf.waitFor();
    const pages = Number(await pdf.getAttribute('data-pages'));
    expect(pages).toBeGreaterThan(0);
    expect(await pdf.getByRole('img', { name: /page 1 sur/ }).count()).toBe(1);
    // The page is not blank: some dark pixels (text) on the canvas.
    const ink = await pdf.locator('canvas').first().evaluate((c: HTMLCanvasElement) => {
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i]! < 128 && d[i + 3]! > 0) n++;
      return n;
    });
    expect(ink).toBeGreaterThan(500);
    expect(await view.getByRole('link', { name: 'Télécharger le PDF' }).getAttribute('href')).toMatch(/^blob:/);
    const docs = await app.core.registry.call('inbox.messages.list', { account: HOSPITAL });
    const id = docs.find((m) => m.documents[0]?.title === CR && m.documents[0].status === 'integrated')!.documents[0]!.id!;
    const shown = await app.core.registry.call('inbox.document.get', { id });
    expect(Buffer.from(shown.pdf!.base64!, 'base64').subarray(0, 5).toString('latin1')).toBe('%PDF-');
    await screenshot('document-pdf');

    await view.getByRole('tab', { name: /Versions \(2\)/ }).click();
    const versions = view.getByRole('list', { name: 'Versions du document' });
    await versions.waitFor();
    expect(await versions.getByRole('listitem').count()).toBe(2);
    expect(await versions.getByRole('listitem').nth(1).textContent()).toMatch(/Version 1.*Remplacé/);
    await screenshot('document-versions');
    await versions.getByRole('button', { name: 'Ouvrir cette version' }).click();
    await view.getByText('Cette version a été remplacée par une version plus récente.').waitFor();
    await view.getByRole('button', { name: 'Voir la version actuelle' }).click();
    await view.getByText('Cette version a été remplacée par une version plus récente.').waitFor({ state: 'detached' });
  });

  it.skipIf(!VSM)('shows a structured document’s narrative in a sandboxed frame without scripts', async () => {
    await page.getByRole('button', { name: '← Retour au message' }).click();
    await page.getByTestId('inbox-message').filter({ hasText: 'Synthèse Médicale' }).click();
    const detail = page.getByTestId('inbox-message-detail');
    expect(await detail.getByTestId('inbox-doc-status').textContent()).toBe('Intégré');
    await detail.getByRole('button', { name: 'Ouvrir le document' }).click();
    const view = page.getByTestId('inbox-document-view');
    await view.getByRole('heading', { name: 'Synthèse Médicale' }).waitFor();
    const frame = page.getByTestId('inbox-narrative');
    expect(await frame.getAttribute('sandbox')).toBe('allow-same-origin');
    const inner = page.frameLocator('[data-testid="inbox-narrative"]');
    await inner.getByRole('heading', { name: 'Pathologie en cours', exact: true }).waitFor();
    expect(await inner.locator('body').locator('script, [style], [href], [src]').count()).toBe(0);
    // The frame's stylesheet applied (headings in the app's blue).
    expect(await inner.locator('h2').first().evaluate((e) => getComputedStyle(e).color)).toBe('rgb(8, 74, 140)');
    await screenshot('document-compte-rendu');
    await page.getByRole('button', { name: '← Retour au message' }).click();
    await page.getByTestId('inbox-message').filter({ hasText: 'PAT-TROIS' }).filter({ hasText: CR }).first().click();
  });

  it('sends a read notification to the sender', async () => {
    const back = page.getByRole('button', { name: '← Retour au message' });
    if (await back.count()) await back.click();
    const detail = page.getByTestId('inbox-message-detail');
    await detail.getByRole('button', { name: 'Envoyer l’accusé de lecture' }).click();
    await detail.getByText('Accusé de lecture envoyé à l’expéditeur.').waitFor();
  });

  it('imports the unknown patient’s document by hand after a confirmation', async () => {
    await page.getByTestId('inbox-message').filter({ hasText: 'MARTIN' }).click();
    const detail = page.getByTestId('inbox-message-detail');
    expect(await detail.getByTestId('inbox-doc-status').textContent()).toBe('À importer');
    expect(await detail.getByTestId('inbox-doc-code').textContent()).toMatch(/Code 902 : Patient inconnu/);
    await detail.getByRole('button', { name: 'Envoyer l’accusé de lecture' }).waitFor();
    await screenshot('a-importer');
    await detail.getByRole('button', { name: 'Rattacher à un patient…' }).click();
    await detail.getByRole('search').getByRole('textbox').fill('MARTIN');
    await detail.getByRole('search').getByRole('button', { name: 'Rechercher' }).click();
    await detail.getByRole('list', { name: 'Patients trouvés' }).getByRole('button', { name: /MARTIN PAUL/ }).click();
    const dialog = page.getByRole('dialog', { name: 'Rattacher ce document au dossier de ce patient ?' });
    await dialog.waitFor();
    expect(await dialog.textContent()).toMatch(/L’action est enregistrée dans les traces/);
    await screenshot('confirmation-rattachement', false);
    await dialog.getByRole('button', { name: 'Rattacher le document' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await page.getByTestId('inbox-message').filter({ hasText: 'MARTIN' }).filter({ hasText: 'Intégré' }).waitFor();
    expect(await detail.getByTestId('inbox-doc-patient').textContent()).toMatch(/MARTIN PAUL/);
    await screenshot('importe');
    const audit = await app.core.registry.call('audit.list', { action: 'mssante.document.attached', limit: 5 });
    expect(audit.entries.length).toBe(1);
  });

  it('shows the acknowledgements of the GP’s sent messages in "Envoyés"', async () => {
    await page.getByLabel('Boîte aux lettres').selectOption(GP);
    await page.getByRole('tab', { name: /Envoyés/ }).click();
    const table = page.getByTestId('inbox-sent');
    await table.waitFor();
    expect(await page.getByTestId('inbox-sent-row').count()).toBe(expected);
    // DSNs and MDNs (integrated, 902 error, read) arrive in the GP's mailbox: relever until all are there.
    const done = async () => {
      const rows = await page.getByTestId('inbox-sent-row').allTextContents();
      return rows.some((r) => /Échec 902/.test(r)) && rows.filter((r) => /Remis/.test(r)).length === expected && rows.some((r) => /Lu/.test(r) && /Intégré/.test(r));
    };
    for (let i = 0; i < 30 && !(await done()); i++) {
      await page.getByRole('button', { name: 'Relever', exact: true }).click();
      await page.getByRole('button', { name: 'Relever', exact: true }).waitFor();
      if (await done()) break;
      await page.waitForTimeout(300);
    }
    expect(await done()).toBe(true);
    expect(await table.textContent()).toMatch(/902 : Patient inconnu/);
    expect(await page.getByTestId('inbox-sync-summary').textContent()).toMatch(/accusé\(s\) reçu\(s\) pour vos envois/);
    for (let n = await page.getByRole('button', { name: 'Fermer la notification' }).count(); n > 0; n--) {
      await page.getByRole('button', { name: 'Fermer la notification' }).first().click();
    }
    await screenshot('envoyes-accuses');
  });

  it('is usable with the keyboard: tabs with the arrow keys, visible focus', async () => {
    const sentTab = page.getByRole('tab', { name: /Envoyés/ });
    await sentTab.focus();
    await page.keyboard.press('ArrowLeft');
    const received = page.getByRole('tab', { name: /Reçus/ });
    expect(await received.getAttribute('aria-selected')).toBe('true');
    expect(await received.evaluate((el) => el === document.activeElement && getComputedStyle(el).outlineStyle !== 'none')).toBe(true);
  });

  it('raised no error in the page (CSP violations included)', () => {
    expect(errors).toEqual([]);
  });
});
