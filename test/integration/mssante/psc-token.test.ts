import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureIdentity } from '../../../src/main/identity/runtime';
import { sandboxPractitioner, PSC } from '../../../src/main/identity/psc/psc-profile';
import { startSandboxPscProvider, issuerOf, type RunningProvider } from '../../../src/main/identity/psc/sandbox-provider';
import { PscClient } from '../../../src/main/identity/psc/psc-client';
import { driveLoginOverHttp } from '../../../src/main/identity/psc/test-login';
import { pscTokenSource } from '../../../src/main/mssante/accounts';
import { dovecotOauth2For } from '../../../src/main/mssante/sandbox-service';
import { mssanteOf } from '../../../src/main/mssante/service';
import { freePort } from '../../../src/main/sandbox/ports';
import { APP, PSC_USER, SENDER, makeCda, startMailWorld, waitFor, type MailWorld } from './harness';

/**
 * PER mailbox authenticated with a Pro Santé Connect access token, end to end: the REAL sandbox PSC provider
 * (oidc-provider, in this process), Dovecot's `oauth2` passdb introspecting every token with it, Postfix
 * delegating SMTP AUTH to Dovecot. The app's own wiring is used: `identity.psc.login` (login page driven
 * over HTTP instead of a browser) and the MSSanté service picking the identity runtime's session.
 * Then tokens expire (3 s TTL) while a client whose clock runs late still holds them → the next IMAP/SMTP
 * login is refused by the server and redone silently with a refreshed token; an IDLE session dropped by the
 * server after the expiry reconnects by itself and keeps receiving.
 */
const SECRET = 'introspection-secret-for-tests';
const PASSWORD = 'psc-test-password';
/** Short-lived tokens (seconds) so that expiry happens within the test. */
const TTL = 3;

let world: MailWorld;
let provider: RunningProvider;
let issuer: string;
const practitioner = sandboxPractitioner(PASSWORD);

/**
 * A PSC client whose clock runs at a quarter of real speed: it believes its token valid well after the
 * provider expired it (what a drifting clock, a suspended laptop or an early revocation look like), so it
 * keeps presenting a token the mail server refuses.
 */
async function skewedClient(): Promise<PscClient> {
  const t0 = Date.now();
  const c = new PscClient({
    issuer,
    clientId: 'lps-companion',
    autoRefresh: false,
    refreshMarginSec: 0,
    now: () => t0 + (Date.now() - t0) / 4,
    openBrowser: (url) => driveLoginOverHttp(url, { login: practitioner.login, password: PASSWORD }),
  });
  await c.login();
  return c;
}

async function introspect(token: string): Promise<boolean> {
  const res = await fetch(`${issuer}${PSC.routes.introspection}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`mail-server:${SECRET}`).toString('base64')}` },
    body: new URLSearchParams({ token }).toString(),
  });
  return ((await res.json()) as { active: boolean }).active;
}

function auditActions(prefix: string): string[] {
  return (world.core.db.prepare(`SELECT action FROM audit WHERE action LIKE ? ORDER BY id`).all(`${prefix}%`) as { action: string }[]).map((r) => r.action);
}

describe('PSC token authentication against Dovecot/Postfix introspecting the sandbox PSC provider', () => {
  beforeAll(async () => {
    const port = await freePort();
    issuer = issuerOf('127.0.0.1', port);
    provider = await startSandboxPscProvider({
      host: '127.0.0.1',
      port,
      clientId: 'lps-companion',
      introspectionClientId: 'mail-server',
      introspectionClientSecret: SECRET,
      accessTokenTtl: TTL,
      refreshTokenTtl: 3600,
      practitioners: [practitioner],
    });
    const psc = {
      issuer,
      clientId: 'lps-companion',
      introspectionUrl: `${issuer}${PSC.routes.introspection}`,
      introspectionClientId: 'mail-server',
      introspectionClientSecret: SECRET,
      practitioner: { login: practitioner.login, password: PASSWORD, email: practitioner.email },
    };
    world = await startMailWorld('lps-mss-psc-', { oauth2: dovecotOauth2For(psc), profileExtra: { running: true, psc } });
    configureIdentity(world.core, { openBrowser: (url) => driveLoginOverHttp(url, { login: practitioner.login, password: PASSWORD }) });
  }, 60_000);

  afterAll(async () => {
    await world?.stop();
    await provider?.close();
  });

  it('logs in with PSC, then opens the PER mailbox over IMAP (OAUTHBEARER) and sends over SMTP (XOAUTH2) with the token', async () => {
    const session = await world.core.registry.call('identity.psc.login', {});
    expect(session.identity.nationalId).toBe(practitioner.nationalId);
    const r = await world.core.registry.call('mssante.sync', { account: PSC_USER });
    expect(r.account).toBe(PSC_USER);
    const { file } = makeCda(world, 'psc1.xml');
    const sent = await world.core.registry.call('mssante.send', { from: PSC_USER, to: [APP], cdaFiles: [file], ack: { delivery: false, read: false } });
    expect(sent.status).toBe('sent');
    const dovecotLog = fs.readFileSync(world.servers.logs.dovecot, 'utf8');
    expect(dovecotLog).toMatch(new RegExp(`Login: user=<${PSC_USER.replace(/\./g, '\\.')}>, method=OAUTHBEARER`));
    const postfixLog = fs.readFileSync(world.servers.logs.postfix, 'utf8');
    expect(postfixLog).toMatch(new RegExp(`sasl_method=XOAUTH2, sasl_username=${PSC_USER.replace(/\./g, '\\.')}`));
    // No password was involved: the account has none and the token is never written anywhere.
    expect(auditActions('mssante.auth').filter((a) => a.endsWith('failure'))).toEqual([]);
    const audit = JSON.stringify(world.core.db.prepare('SELECT * FROM audit').all());
    const token = await (mssanteOf(world.core) as unknown as { token(a: unknown, o: { fresh: boolean }): Promise<string> }).token(world.account(PSC_USER), { fresh: false });
    expect(token.length).toBeGreaterThan(20);
    expect(audit).not.toContain(token);
    expect(await introspect(token)).toBe(true);
  });

  it('an expired token is refused by the server and replaced silently (IMAP and SMTP)', async () => {
    const client = await skewedClient();
    mssanteOf(world.core).setTokenSource(pscTokenSource(client));
    try {
      await world.core.registry.call('mssante.sync', { account: PSC_USER });
      const stale = await client.accessToken();
      await new Promise((r) => setTimeout(r, (TTL + 1) * 1000));
      expect(await client.accessToken()).toBe(stale); // the client still believes in it…
      expect(await introspect(stale)).toBe(false); // …the provider (and so Dovecot) does not
      const before = auditActions('mssante.auth.imap.retry').length;
      const r = await world.core.registry.call('mssante.sync', { account: PSC_USER });
      expect(r.account).toBe(PSC_USER);
      expect(auditActions('mssante.auth.imap.retry').length).toBe(before + 1);
      expect(await client.accessToken()).not.toBe(stale);

      await new Promise((r) => setTimeout(r, (TTL + 1) * 1000));
      const smtpBefore = auditActions('mssante.auth.smtp.retry').length;
      const { file } = makeCda(world, 'psc2.xml');
      const sent = await world.core.registry.call('mssante.send', { from: PSC_USER, to: [APP], cdaFiles: [file], ack: { delivery: false, read: false } });
      expect(sent.status).toBe('sent');
      expect(auditActions('mssante.auth.smtp.retry').length).toBe(smtpBefore + 1);
      expect(auditActions('mssante.auth').filter((a) => a.endsWith('failure'))).toEqual([]);
    } finally {
      mssanteOf(world.core).setTokenSource(undefined);
    }
  });

  it('an IDLE session dropped by the server after token expiry reconnects with a fresh token and keeps receiving', async () => {
    const client = await skewedClient();
    const svc = mssanteOf(world.core);
    svc.setTokenSource(pscTokenSource(client));
    const w = svc.watch(PSC_USER);
    try {
      await w.ready();
      const retries = auditActions('mssante.auth.imap.retry').length;
      // The token expires while the session idles; then the operator ends the session.
      await new Promise((r) => setTimeout(r, (TTL + 1) * 1000));
      const kicked = execFileSync('doveadm', ['-c', world.servers.dovecotConf, 'kick', PSC_USER], { encoding: 'utf8' });
      expect(kicked).toMatch(/kicked/i);
      await waitFor(() => w.reconnects >= 1 || undefined, 10_000);
      await w.ready();
      expect(auditActions('mssante.auth.imap.retry').length).toBe(retries + 1);
      const { file } = makeCda(world, 'psc3.xml');
      const item = await world.core.registry.call('mssante.send', { from: SENDER, to: [PSC_USER], cdaFiles: [file], ack: { delivery: false, read: false } });
      // Processed by the watcher (no manual sync): integrated, journaled in the PER mailbox.
      const row = await waitFor(() => world.core.db.prepare(`SELECT kind, outcome FROM mss_journal WHERE account = ? AND message_id = ?`).get(PSC_USER, item.messageId) as { kind: string; outcome: string } | undefined, 15_000);
      expect(row).toEqual({ kind: 'document', outcome: 'ok' });
    } finally {
      await w.stop();
      svc.setTokenSource(undefined);
    }
  });
});
