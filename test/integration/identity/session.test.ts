/**
 * Identity completion against the real identity sandbox (SoftHSM CPS token, PSC provider on oidc-provider),
 * in a private data dir: `lps card sign` through the real CLI verified by xmlsec1, PSC session restore from the
 * refresh-token vault, the practitioner session (activities, lock on card removal refusing privileged calls).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../../src/main/core/app-core';
import { createCore } from '../../../src/main/handlers';
import { softhsmModule } from '../../../src/main/identity/card/softhsm';
import { PscClient, type RefreshTokenVault } from '../../../src/main/identity/psc/psc-client';
import { driveLoginOverHttp } from '../../../src/main/identity/psc/test-login';
import { configureIdentity, restorePscSession } from '../../../src/main/identity/runtime';
import { identitySandboxService, type IdentityProfileSections } from '../../../src/main/identity/sandbox-service';
import { SandboxManager } from '../../../src/main/sandbox/manager';
import { runLps } from '../../support/cli';
import { tempDir } from '../../support/tmp';
import { HAS_XMLSEC, xmlsecVerify } from '../../unit/identity/xmlsec';

function memoryVault(): RefreshTokenVault & { value?: string; loads: number } {
  const v = {
    value: undefined as string | undefined,
    loads: 0,
    async save(t: string) {
      v.value = t;
    },
    async load() {
      v.loads++;
      return v.value;
    },
    async clear() {
      v.value = undefined;
    },
  };
  return v;
}

describe.skipIf(!softhsmModule())('identity completion: card sign CLI, PSC restore, session and lock', () => {
  const tmp = tempDir('lps-idsession-');
  let manager: SandboxManager;
  let profile: IdentityProfileSections & { running: boolean };
  let core: Core | undefined;

  async function introspect(token: string): Promise<{ active: boolean }> {
    const res = await fetch(profile.psc.introspectionUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${profile.psc.introspectionClientId}:${profile.psc.introspectionClientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    return (await res.json()) as { active: boolean };
  }

  beforeAll(async () => {
    manager = new SandboxManager({ dataDir: tmp.dir, services: [identitySandboxService] });
    profile = (await manager.up()) as unknown as IdentityProfileSections & { running: boolean };
  });
  afterAll(async () => {
    await core?.close();
    await manager?.down();
    tmp.cleanup();
  });

  it.skipIf(!HAS_XMLSEC)('lps card sign: XAdES with the card key, verified by xmlsec1 against the sandbox CA; wrong PIN exits 1', async () => {
    const input = path.join(tmp.dir, 'doc.xml');
    fs.writeFileSync(input, '<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3"><title>Compte rendu</title></ClinicalDocument>');
    const out = path.join(tmp.dir, 'doc.signed.xml');
    const bad = await runLps(['card', 'sign', input, '-o', out, '--json'], { dataDir: tmp.dir, stdin: '0000\n' });
    expect(bad.code).toBe(1);
    expect(fs.existsSync(out)).toBe(false);
    const r = await runLps(['card', 'sign', input, '-o', out, '--json'], { dataDir: tmp.dir, stdin: '1234\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ mode: 'enveloped', signer: profile.card.holder.nationalId });
    const signed = fs.readFileSync(out, 'utf8');
    expect(signed).toContain('xades:SigningTime');
    expect(xmlsecVerify(signed, profile.pki.caCert)).toMatchObject({ ok: true });
    // Independent check that fails on tampering: the verifier is not a rubber stamp.
    expect(xmlsecVerify(signed.replace('Compte rendu', 'Compte rendu modifié'), profile.pki.caCert).ok).toBe(false);
  });

  it('restores a PSC session from the vault (refresh grant), and not without a vault', async () => {
    const vault = memoryVault();
    const practitioner = { login: profile.psc.practitioner.login, password: profile.psc.practitioner.password };
    const first = new PscClient({ issuer: profile.psc.issuer, clientId: profile.psc.clientId, vault, autoRefresh: false, openBrowser: (u) => driveLoginOverHttp(u, practitioner) });
    await first.login();
    const stored = vault.value;
    expect(stored).toBeTruthy();
    first.forget(); // the app quits: nothing revoked, the vault keeps the refresh token

    const noBrowser = () => {
      throw new Error('start-up restore must not open a browser');
    };
    const second = new PscClient({ issuer: profile.psc.issuer, clientId: profile.psc.clientId, vault, autoRefresh: false, openBrowser: noBrowser });
    const session = await second.resume();
    expect(session).toMatchObject({ restored: true, identity: { nationalId: profile.card.holder.nationalId, lastName: 'DURAND' } });
    expect(vault.value).toBeTruthy();
    expect(await introspect(await second.accessToken())).toMatchObject({ active: true });

    // Plain Node keeps no session: without a vault there is nothing to restore.
    const plain = new PscClient({ issuer: profile.psc.issuer, clientId: profile.psc.clientId, autoRefresh: false, openBrowser: noBrowser });
    expect(await plain.resume()).toBeUndefined();

    // Logout revokes: the vault is emptied and a restore with the old token fails cleanly (vault cleared).
    await second.logout({ browser: false });
    expect(vault.value).toBeUndefined();
    vault.value = stored;
    const third = new PscClient({ issuer: profile.psc.issuer, clientId: profile.psc.clientId, vault, autoRefresh: false, openBrowser: noBrowser });
    expect(await third.resume()).toBeUndefined();
    expect(vault.value).toBeUndefined();
  });

  it('session: PSC with two activities asks for one; restore at start-up through the Core; sign-out', async () => {
    core = createCore({ dataDir: tmp.dir, runtime: 'node' });
    const vault = memoryVault();
    const practitioner = { login: profile.psc.practitioner.login, password: profile.psc.practitioner.password };
    configureIdentity(core, { vault, openBrowser: (u) => driveLoginOverHttp(u, practitioner) });
    await core.registry.call('identity.psc.login', {}, { transport: 'test' });
    const s = await core.registry.call('identity.session.get', {}, { transport: 'test' });
    expect(s).toMatchObject({ status: 'signed-in', method: 'psc', needsActivity: true, practitioner: { nationalId: '899700012345', profession: 'Médecin' } });
    expect(s.activities.map((a) => a.structureId)).toEqual(['3990000001', '3990000002']);
    expect(s.activities[1]!.label).toContain('Centre de santé');
    await expect(core.registry.call('identity.session.selectActivity', { activityId: 'nope' }, { transport: 'test' })).rejects.toMatchObject({ code: 'ACTIVITY_UNKNOWN' });
    const chosen = await core.registry.call('identity.session.selectActivity', { activityId: s.activities[1]!.id }, { transport: 'test' });
    expect(chosen).toMatchObject({ activityId: s.activities[1]!.id, needsActivity: false });
    await core.close();

    // Next start: the Core restores the session from the vault; the last chosen activity is remembered.
    core = createCore({ dataDir: tmp.dir, runtime: 'node' });
    configureIdentity(core, { vault, openBrowser: () => Promise.reject(new Error('no browser')) });
    const restored = await restorePscSession(core);
    expect(restored?.identity.nationalId).toBe('899700012345');
    const again = await core.registry.call('identity.session.get', {}, { transport: 'test' });
    expect(again).toMatchObject({ status: 'signed-in', method: 'psc', restored: true, activityId: s.activities[1]!.id, needsActivity: false });
    const out = await core.registry.call('identity.session.signOut', {}, { transport: 'test' });
    expect(out.status).toBe('signed-out');
    expect(vault.value).toBeUndefined();
  });

  it('card session: signed in with the PIN, locked when the card is removed (privileged calls refused), unlocked by the PIN', async () => {
    await core?.close();
    core = createCore({ dataDir: tmp.dir, runtime: 'node' });
    const c = core;
    const call = (m: string, input: unknown) => c.registry.invoke(m, input, { transport: 'test' });
    expect(await call('identity.card.login', { pin: '0000' })).toMatchObject({ ok: false, error: { code: 'CARD_PIN_INCORRECT' } });
    expect(((await call('identity.session.get', {})) as { value: { status: string } }).value.status).toBe('signed-out');
    expect(await call('identity.card.login', { pin: '1234' })).toMatchObject({ ok: true, value: { loggedIn: true } });
    const s = (await call('identity.session.get', {})) as { value: { status: string; method: string; practitioner: { lastName: string }; activities: unknown[]; needsActivity: boolean } };
    expect(s.value).toMatchObject({ status: 'signed-in', method: 'card', practitioner: { lastName: 'DURAND' }, needsActivity: false });
    expect(await call('patients.list', {})).toMatchObject({ ok: true });

    // The card watcher reports the removal (the reader event, as CardService emits it through the core).
    c.events.emit('identity.card', { kind: 'removed', status: { present: false, module: profile.card.module, loggedIn: false } });
    expect(((await call('identity.session.get', {})) as { value: { status: string } }).value.status).toBe('locked');
    expect(await call('patients.list', {})).toMatchObject({ ok: false, error: { code: 'SESSION_LOCKED' } });
    expect(await call('mssante.accounts.list', {})).toMatchObject({ ok: false, error: { code: 'SESSION_LOCKED' } });
    expect(await call('app.info', {})).toMatchObject({ ok: true });
    expect(((await call('identity.card.status', {})) as { value: { loggedIn: boolean } }).value.loggedIn).toBe(false); // card session closed

    expect(await call('identity.card.login', { pin: '1234' })).toMatchObject({ ok: true });
    expect(((await call('identity.session.get', {})) as { value: { status: string } }).value.status).toBe('signed-in');
    expect(await call('patients.list', {})).toMatchObject({ ok: true });
    expect(((await call('identity.session.signOut', {})) as { value: { status: string } }).value.status).toBe('signed-out');
    const trail = c.db.prepare("SELECT action FROM audit WHERE action LIKE 'identity.%' ORDER BY id").all() as { action: string }[];
    expect(trail.map((r) => r.action)).toEqual(expect.arrayContaining(['identity.card.login', 'identity.session.locked', 'identity.session.signOut']));
  });
});
