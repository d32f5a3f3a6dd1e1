import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCda, buildNewVersion, loadCdaRequest } from '../../../src/main/documents';
import type { Core } from '../../../src/main/core/app-core';
import { createCore } from '../../../src/main/handlers';
import { removeSpoolCompanion, startMailServers, type RunningMailServers } from '../../../src/main/mssante/mail-servers';
import { ensureLocalMailPki } from '../../../src/main/mssante/sandbox-pki';
import { SANDBOX_PATIENT } from '../../../src/main/mssante/sandbox-service';
import { freePort } from '../../../src/main/sandbox/ports';
import { openDatabase } from '../../../src/main/store/database';
import { storePath } from '../../../src/main/store/paths';
import { spawnDetached, stopPid } from '../../../src/main/sandbox/processes';
import { tempDir } from '../../support/tmp';

/**
 * Against real private Dovecot + Postfix instances (started here on free ports, stopped by PID):
 * send → receive → automatic integration + MDN, replacement, deletion, 902, 904, hostile XDM, and a
 * SIGKILL of the syncing process followed by a restart (no loss, no duplicate).
 */
const ROOT = path.resolve(__dirname, '../../..');
const DOMAIN = 'sandbox.mssante.fr';
const SENDER = `jean.dupont@${DOMAIN}`;
const APP = `pfi.ch-sandbox@${DOMAIN}`;

let tmp: { dir: string; cleanup: () => void };
let servers: RunningMailServers | undefined;
const pids: number[] = [];
let core: Core;
let dataDir: string;
let workDir: string;

function writeProfile(dir: string, ports: { imap: number; submission: number; submissionApp: number }, pki: ReturnType<typeof ensureLocalMailPki>) {
  const acc = (address: string, kind: string, auth: string, password: string, extra: Record<string, unknown> = {}) => ({
    address,
    kind,
    auth,
    password,
    imap: { host: '127.0.0.1', port: ports.imap },
    smtp: { host: '127.0.0.1', port: kind === 'APP' ? ports.submissionApp : ports.submission },
    ...extra,
  });
  const profile = {
    version: 1,
    running: false,
    runDir: path.join(dir, 'sandbox', 'run'),
    services: {},
    accounts: [acc(SENDER, 'PER', 'password', 'pw-jean'), acc(APP, 'APP', 'client-cert', 'pw-app', { clientCertificate: { cert: pki.appClientCert, key: pki.appClientKey } })],
    mail: { caFiles: [pki.caCert] },
    patients: [SANDBOX_PATIENT],
  };
  fs.mkdirSync(path.join(dir, 'sandbox'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'sandbox', 'profile.json'), JSON.stringify(profile));
}

function cda(name: string, mutate: (req: Record<string, any>) => void = () => {}) {
  const { request, baseDir } = loadCdaRequest(path.join(ROOT, 'examples', 'cda-request.json'));
  const req = JSON.parse(JSON.stringify(request));
  mutate(req);
  const built = buildCda(req, { baseDir });
  const file = path.join(workDir, name);
  fs.writeFileSync(file, built.bytes);
  return { file, built, req, baseDir };
}

async function sendAndSync(input: Parameters<Core['registry']['call']>[1]) {
  const item = await core.registry.call('mssante.send', input);
  expect(item.status).toBe('sent');
  // LMTP delivery is asynchronous behind Postfix: wait until the APP inbox sees it.
  for (let i = 0; i < 50; i++) {
    const r = await core.registry.call('mssante.sync', { account: APP });
    if (r.messages.length) return { item, sync: r };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('message not delivered');
}

describe('MSSanté mail flow against Dovecot + Postfix', () => {
  beforeAll(async () => {
    tmp = tempDir('lps-mss-');
    dataDir = path.join(tmp.dir, 'data');
    workDir = path.join(tmp.dir, 'work');
    fs.mkdirSync(workDir, { recursive: true });
    const pki = ensureLocalMailPki(path.join(tmp.dir, 'pki'));
    const ports = { imap: await freePort(), lmtp: await freePort(), submission: await freePort(), submissionApp: await freePort(), auth: await freePort() };
    servers = await startMailServers({
      dir: path.join(tmp.dir, 'mail'),
      host: '127.0.0.1',
      ports,
      pki,
      domains: [DOMAIN, 'patient.mssante.fr'],
      users: [
        { address: SENDER, password: 'pw-jean' },
        { address: APP, password: 'pw-app', requireClientCert: true },
      ],
      spawn: (name, cmd, args, opts) => {
        const pid = spawnDetached({ command: cmd, args, logFile: path.join(tmp.dir, `${name}.out`), env: opts?.env });
        pids.push(pid);
        return pid;
      },
    });
    writeProfile(dataDir, ports, pki);
    core = createCore({ dataDir, runtime: 'node' });
  });

  afterAll(async () => {
    await core?.close();
    for (const pid of pids.reverse()) await stopPid(pid);
    removeSpoolCompanion(servers?.spoolDir);
    tmp?.cleanup();
  });

  it('sends a document that is integrated automatically, with a processed MDN, DSN and sent copy', async () => {
    const { file } = cda('doc1.xml');
    const { item, sync } = await sendAndSync({ from: SENDER, to: [APP], cdaFiles: [file], ack: { delivery: true, read: true } });
    expect(item.subject).toMatch(/^XDM\/1\.0\/DDM\+/);
    expect(item.sentCopy).toBe(true);
    const m = sync.messages[0]!;
    expect(m.kind).toBe('document');
    expect(m.documents).toHaveLength(1);
    expect(m.documents[0]).toMatchObject({ classification: 'initial', result: 'integrated' });
    expect(m.mdn).toMatchObject({ disposition: 'processed' });
    expect(sync.mdnsSent[0]!.status).toBe('sent');
    // The audit trail says which documents each message carried and what became of them (ids, not bodies).
    const received = core.audit.list({ action: 'mssante.receive.message' }).entries.find((e) => e.subject === m.messageId)!;
    expect(received.details.results).toEqual([expect.objectContaining({ id: m.documents[0]!.documentId, classification: 'initial', result: 'integrated' })]);
    const queued = core.audit.list({ action: 'mssante.outbox.document.queued' }).entries.find((e) => e.subject === item.messageId)!;
    expect(queued.details.cdaIds).toEqual([m.documents[0]!.documentId]);
    // The sender receives the DSN and the MDN; both land on the sent message.
    let out = core.registry.call('mssante.outbox.list', { account: SENDER });
    for (let i = 0; i < 50; i++) {
      await core.registry.call('mssante.sync', { account: SENDER });
      const it = (await core.registry.call('mssante.outbox.list', { account: SENDER })).find((x) => x.id === item.id)!;
      if (it.integrationStatus && it.deliveryStatus) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    out = core.registry.call('mssante.outbox.list', { account: SENDER });
    const sent = (await out).find((x) => x.id === item.id)!;
    expect(sent.integrationStatus).toBe('integrated');
    expect(sent.deliveryStatus).toBe('delivered');
    // The wire headers.
    const raw = core.blobs.get((core.db.prepare('SELECT raw_blob FROM mss_outbox WHERE id = ?').get(item.id) as { raw_blob: string }).raw_blob).toString('latin1');
    expect(raw).toMatch(/^X-MSS-CODECDA: 11488-4\r?$/m);
    expect(raw).toMatch(/^X-MSS-INS: O\r?$/m);
    expect(raw).toMatch(/^X-MSS-NIL: \S+/m);
    expect(raw).toMatch(/filename=IHE_XDM\.zip/);
    expect(raw).toMatch(/application\/pdf/);
    expect(raw).toMatch(/^Disposition-Notification-To: jean\.dupont@sandbox\.mssante\.fr/m);
  });

  it('classifies a new version as a replacement, keeps the previous one, and a deletion marks it', async () => {
    const v1 = cda('v1.xml');
    await sendAndSync({ from: SENDER, to: [APP], cdaFiles: [v1.file], ack: { delivery: false, read: false } });
    const v2built = buildNewVersion(v1.built.parsed, v1.req, { baseDir: v1.baseDir });
    const v2 = path.join(workDir, 'v2.xml');
    fs.writeFileSync(v2, v2built.bytes);
    const { sync } = await sendAndSync({ from: SENDER, to: [APP], cdaFiles: [v2], ack: { delivery: false, read: true }, action: 'C' });
    const d = sync.messages[0]!.documents[0]!;
    expect(['replacement', 'metadata-update']).toContain(d.classification);
    expect(d.result).toBe('integrated');
    const docs = await core.registry.call('mssante.documents.list', {});
    const old = docs.find((x) => x.id === d.replacesRowId)!;
    expect(old.status).toBe('replaced');
    expect(old.replacedById).toBe(d.rowId);
    // Deletion of v2 (action D, the message carries the document to delete).
    const del = await sendAndSync({ from: SENDER, to: [APP], cdaFiles: [v2], ack: { delivery: false, read: false }, action: 'D' });
    expect(del.sync.messages[0]!.documents[0]).toMatchObject({ classification: 'deletion', result: 'deleted' });
    const after = (await core.registry.call('mssante.documents.list', {})).find((x) => x.id === d.rowId)!;
    expect(after.status).toBe('deleted');
    expect(after.deletedAt).toBeTruthy();
  });

  it('queues an unknown patient (MDN 902) and an INS whose traits differ (MDN 904)', async () => {
    const unknown = cda('unknown.xml', (r) => {
      r.patient.ins = '180127512345678';
      r.patient.gender = 'M';
      delete r.patient.ipp;
    });
    const a = await sendAndSync({ from: SENDER, to: [APP], cdaFiles: [unknown.file], ack: { delivery: false, read: true } });
    expect(a.sync.messages[0]!.documents[0]).toMatchObject({ result: 'queued', code: '902' });
    expect(a.sync.messages[0]!.mdn).toMatchObject({ disposition: 'error', code: '902' });
    const mismatch = cda('mismatch.xml', (r) => {
      r.patient.birthDate = '1980-01-01';
    });
    const b = await sendAndSync({ from: SENDER, to: [APP], cdaFiles: [mismatch.file], ack: { delivery: false, read: true } });
    expect(b.sync.messages[0]!.documents[0]).toMatchObject({ result: 'queued', code: '904' });
    expect(b.sync.messages[0]!.mdn).toMatchObject({ disposition: 'error', code: '904' });
    const mdnRaw = core.blobs.get((core.db.prepare('SELECT raw_blob FROM mss_outbox WHERE id = ?').get(b.sync.messages[0]!.mdn!.outboxId) as { raw_blob: string }).raw_blob).toString('latin1');
    expect(mdnRaw).toMatch(/report-type=disposition-notification/);
    expect(mdnRaw).toMatch(/Disposition: automatic-action\/MDN-sent-automatically; processed\/Error: 904\^/);
    expect(mdnRaw).toMatch(/Content-Type: message\/rfc822/);
  });

  it('SIGKILL during sync then restart: every message integrated once, every MDN sent once', async () => {
    // Three document mails waiting for the APP mailbox.
    const files = [1, 2, 3].map((i) => cda(`k${i}.xml`).file);
    for (const f of files) await core.registry.call('mssante.send', { from: SENDER, to: [APP], cdaFiles: [f], ack: { delivery: false, read: true } });
    await new Promise((r) => setTimeout(r, 1500));
    const before = (core.db.prepare(`SELECT COUNT(*) AS n FROM mss_documents WHERE status = 'integrated'`).get() as { n: number }).n;
    await core.close();
    // Killed while the fetched batch is read but not committed (nothing durable), then killed again right after
    // the batch commit (journal and documents durable, keywords not yet set, MDNs not yet sent), then restarted.
    const lps = (fault: string) =>
      spawnSync(process.execPath, [path.join(ROOT, 'bin', 'lps.cjs'), 'mail', 'sync', '--account', APP, '--json'], {
        env: { ...process.env, LPS_DATA_DIR: dataDir, LPS_MSS_FAULT: fault, LPS_MSS_FAULT_AFTER: '0' },
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      });
    const integratedNow = () => {
      const db = openDatabase(storePath(dataDir));
      try {
        return (db.prepare(`SELECT COUNT(*) AS n FROM mss_documents WHERE status = 'integrated'`).get() as { n: number }).n;
      } finally {
        db.close();
      }
    };
    expect(lps('sync-before-commit').signal).toBe('SIGKILL');
    expect(integratedNow()).toBe(before);
    expect(lps('sync-after-commit').signal).toBe('SIGKILL');
    expect(integratedNow()).toBe(before + 3);
    const again = lps('');
    expect(again.status, again.stderr).toBe(0);
    core = createCore({ dataDir, runtime: 'node' });
    const after = (core.db.prepare(`SELECT COUNT(*) AS n FROM mss_documents WHERE status = 'integrated'`).get() as { n: number }).n;
    expect(after - before).toBe(3);
    const dup = core.db.prepare(`SELECT doc_root, COUNT(*) AS n FROM mss_documents GROUP BY doc_root, doc_ext HAVING n > 1`).all();
    expect(dup).toEqual([]);
    const mdns = core.db.prepare(`SELECT meta FROM mss_outbox WHERE kind = 'mdn'`).all() as { meta: string }[];
    const perOriginal = new Map<string, number>();
    for (const m of mdns) {
      const k = String((JSON.parse(m.meta) as { inReplyTo: string }).inReplyTo);
      perOriginal.set(k, (perOriginal.get(k) ?? 0) + 1);
    }
    expect([...perOriginal.values()].every((n) => n === 1)).toBe(true);
    expect((core.db.prepare(`SELECT COUNT(*) AS n FROM mss_outbox WHERE status != 'sent'`).get() as { n: number }).n).toBe(0);
  });

  it('two processes on one data folder flush the same outbox: each message leaves once', async () => {
    const files = [1, 2, 3, 4].map((i) => cda(`both${i}.xml`).file);
    const ids: string[] = [];
    const messageIds: string[] = [];
    for (const f of files) {
      const item = await core.registry.call('mssante.send', { from: SENDER, to: [APP], cdaFiles: [f], ack: { delivery: false, read: false }, sendNow: false });
      ids.push(item.id);
      messageIds.push(item.messageId);
    }
    const other = createCore({ dataDir, runtime: 'node' });
    let byUs: string[];
    let byOther: string[];
    try {
      const [a, b] = await Promise.all([core.registry.call('mssante.outbox.flush', { account: SENDER }), other.registry.call('mssante.outbox.flush', { account: SENDER })]);
      byUs = a.map((x) => x.id).filter((id) => ids.includes(id));
      byOther = b.map((x) => x.id).filter((id) => ids.includes(id));
    } finally {
      await other.close();
    }
    // Each message taken by exactly one of the two, and sent.
    expect([...byUs, ...byOther].sort()).toEqual([...ids].sort());
    for (const id of ids) expect(core.db.prepare('SELECT status, claimed_by FROM mss_outbox WHERE id = ?').get(id)).toEqual({ status: 'sent', claimed_by: null });
    // Delivered once: every Message-ID reaches the APP mailbox exactly one time.
    const seen = new Map<string, number>();
    for (let i = 0; i < 50 && [...seen.values()].reduce((x, y) => x + y, 0) < ids.length; i++) {
      const r = await core.registry.call('mssante.sync', { account: APP });
      for (const m of r.messages) if (m.messageId && messageIds.includes(m.messageId)) seen.set(m.messageId, (seen.get(m.messageId) ?? 0) + 1);
      await new Promise((res) => setTimeout(res, 100));
    }
    await new Promise((res) => setTimeout(res, 500));
    const late = await core.registry.call('mssante.sync', { account: APP });
    for (const m of late.messages) if (m.messageId && messageIds.includes(m.messageId)) seen.set(m.messageId, (seen.get(m.messageId) ?? 0) + 1);
    expect(Object.fromEntries(seen)).toEqual(Object.fromEntries(messageIds.map((m) => [m, 1])));
  });
});
