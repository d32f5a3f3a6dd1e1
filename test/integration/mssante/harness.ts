import fs from 'node:fs';
import path from 'node:path';
import { ImapFlow } from 'imapflow';
import { expect } from 'vitest';
import { buildCda, loadCdaRequest, type BuiltCda } from '../../../src/main/documents';
import type { Core } from '../../../src/main/core/app-core';
import { createCore } from '../../../src/main/handlers';
import { tlsOptions, type MailAccountConfig } from '../../../src/main/mssante/accounts';
import { removeSpoolCompanion, startMailServers, type MailServerOptions, type RunningMailServers } from '../../../src/main/mssante/mail-servers';
import { ensureLocalMailPki, type MailPki } from '../../../src/main/mssante/sandbox-pki';
import { SANDBOX_PATIENT } from '../../../src/main/mssante/sandbox-service';
import { freePort } from '../../../src/main/sandbox/ports';
import { spawnDetached, stopPid } from '../../../src/main/sandbox/processes';
import { tempDir } from '../../support/tmp';

/**
 * A private MSSanté "operator" for one test file: real Dovecot + Postfix on free loopback ports (stopped by
 * PID in `stop`, also after a failure), a sandbox-shaped profile in a temp data dir, and a Core on it.
 */
export const ROOT = path.resolve(__dirname, '../../..');
export const DOMAIN = 'sandbox.mssante.fr';
export const SENDER = `jean.dupont@${DOMAIN}`;
export const APP = `pfi.ch-sandbox@${DOMAIN}`;
export const PSC_USER = `claire.durand@${DOMAIN}`;

export interface MailWorld {
  dir: string;
  dataDir: string;
  workDir: string;
  pki: MailPki;
  ports: { imap: number; lmtp: number; submission: number; submissionApp: number; auth: number };
  servers: RunningMailServers;
  core: Core;
  pids: number[];
  account(address: string): MailAccountConfig;
  reopenCore(): Core;
  stop(): Promise<void>;
}

export interface WorldOptions {
  oauth2?: MailServerOptions['oauth2'];
  /** Extra Dovecot settings appended to its configuration (e.g. a capability list without IDLE). */
  dovecotExtra?: string;
  /** Extra sandbox-profile sections (e.g. `psc`, `running: true` so that the identity runtime sees them). */
  profileExtra?: Record<string, unknown>;
}

export async function startMailWorld(prefix: string, opts: WorldOptions = {}): Promise<MailWorld> {
  const tmp = tempDir(prefix);
  const pids: number[] = [];
  let servers: RunningMailServers | undefined;
  const stop = async () => {
    for (const pid of [...pids].reverse()) await stopPid(pid);
    removeSpoolCompanion(servers?.spoolDir);
    tmp.cleanup();
  };
  try {
    const dataDir = path.join(tmp.dir, 'data');
    const workDir = path.join(tmp.dir, 'work');
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
        { address: PSC_USER, password: 'pw-claire-unused' },
        { address: APP, password: 'pw-app', requireClientCert: true },
      ],
      ...(opts.oauth2 ? { oauth2: opts.oauth2 } : {}),
      ...(opts.dovecotExtra ? { dovecotExtra: opts.dovecotExtra } : {}),
      spawn: (name, cmd, args, o) => {
        const pid = spawnDetached({ command: cmd, args, logFile: path.join(tmp.dir, `${name}.out`), env: o?.env });
        pids.push(pid);
        return pid;
      },
    });
    const acc = (address: string, kind: string, auth: string, password: string, extra: Record<string, unknown> = {}) => ({
      address,
      kind,
      auth,
      password,
      imap: { host: '127.0.0.1', port: ports.imap },
      smtp: { host: '127.0.0.1', port: kind === 'APP' ? ports.submissionApp : ports.submission },
      ...extra,
    });
    const accounts = [
      acc(SENDER, 'PER', 'password', 'pw-jean'),
      acc(PSC_USER, 'PER', 'psc', ''),
      acc(APP, 'APP', 'client-cert', 'pw-app', { clientCertificate: { cert: pki.appClientCert, key: pki.appClientKey } }),
    ];
    // The patient entry as `lps sandbox up` leaves it: the DMP sandbox adds its own fields to the same entry.
    const patient = { ...SANDBOX_PATIENT, name: 'PAT-TROIS DOMINIQUE', dmp: 'ACTIF', authorization: 'VALIDE', family: 'PAT-TROIS', given: 'DOMINIQUE' };
    const profile = { version: 1, running: false, runDir: path.join(dataDir, 'sandbox', 'run'), services: {}, accounts, mail: { caFiles: [pki.caCert] }, patients: [patient], ...opts.profileExtra };
    fs.mkdirSync(path.join(dataDir, 'sandbox'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'sandbox', 'profile.json'), JSON.stringify(profile));
    const world: MailWorld = {
      dir: tmp.dir,
      dataDir,
      workDir,
      pki,
      ports,
      servers,
      pids,
      core: createCore({ dataDir, runtime: 'node' }),
      account: (address) => {
        const a = accounts.find((x) => x.address === address);
        if (!a) throw new Error(`no account ${address}`);
        return { ...a, sandbox: true } as unknown as MailAccountConfig;
      },
      reopenCore() {
        world.core = createCore({ dataDir, runtime: 'node' });
        return world.core;
      },
      async stop() {
        await world.core?.close().catch(() => {});
        await stop();
      },
    };
    return world;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A CDA built from the repo example request (fresh document id each time), written to the work dir. */
export function makeCda(world: Pick<MailWorld, 'workDir'>, name: string, mutate: (req: Record<string, any>) => void = () => {}): { file: string; built: BuiltCda; req: Record<string, any>; baseDir: string } {
  const { request, baseDir } = loadCdaRequest(path.join(ROOT, 'examples', 'cda-request.json'));
  const req = JSON.parse(JSON.stringify(request));
  mutate(req);
  const built = buildCda(req, { baseDir });
  const file = path.join(world.workDir, name);
  fs.writeFileSync(file, built.bytes);
  return { file, built, req, baseDir };
}

/** An IMAP session as this account (password or client certificate), for test-side APPEND / inspection. */
/** A CDA built as `name` and sent from SENDER to APP without acknowledgements; fails the test unless sent. Its Message-ID. */
export async function sendDocument(world: MailWorld, name: string): Promise<string> {
  const { file } = makeCda(world, name);
  const item = await world.core.registry.call('mssante.send', { from: SENDER, to: [APP], cdaFiles: [file], ack: { delivery: false, read: false } });
  expect(item.status, item.lastError ?? '').toBe('sent');
  return item.messageId;
}

export async function imapAs(world: MailWorld, address: string): Promise<ImapFlow> {
  const a = world.account(address);
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: world.ports.imap,
    secure: false,
    doSTARTTLS: true,
    auth: { user: a.address, pass: a.password! },
    tls: tlsOptions(a, { caFiles: [world.pki.caCert] }),
    logger: false,
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** Drops a raw message straight into a mailbox (IMAP APPEND), as a hostile sender's operator would deliver it. */
export async function appendRaw(world: MailWorld, address: string, raw: Buffer): Promise<number> {
  const c = await imapAs(world, address);
  try {
    const r = await c.append('INBOX', raw);
    return typeof r === 'object' && r && 'uid' in r ? Number(r.uid) : 0;
  } finally {
    await c.logout().catch(() => c.close());
  }
}

/** Flags and presence of every message of a mailbox. */
export async function mailboxState(world: MailWorld, address: string): Promise<{ uid: number; flags: string[]; size: number; subject?: string }[]> {
  const c = await imapAs(world, address);
  try {
    await c.mailboxOpen('INBOX');
    const out: { uid: number; flags: string[]; size: number; subject?: string }[] = [];
    if (!(c.mailbox && typeof c.mailbox === 'object' && c.mailbox.exists)) return out;
    for await (const m of c.fetch('1:*', { uid: true, flags: true, size: true, envelope: true })) out.push({ uid: m.uid, flags: [...(m.flags ?? [])], size: m.size ?? 0, subject: m.envelope?.subject });
    return out;
  } finally {
    await c.logout().catch(() => c.close());
  }
}

export async function waitFor<T>(fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, stepMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false && v !== null) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
