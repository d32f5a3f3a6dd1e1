/**
 * The production profile: the DMP client is configured from the Settings screen (structure .p12 + password,
 * trust store) and the signed-in practitioner (CPS card on SoftHSM), never from the profile's certificates.
 * The DMP test server trusts ONLY the CA of the certificates entered in the Settings, and the production
 * profile carries a decoy `pki` section (the old source) from another CA with the same structure id: a call
 * made with the wrong certificate is refused by the server.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../../src/main/core/app-core';
import { resolveDmpConfig } from '../../../src/main/dmp/config';
import { OID } from '../../../src/main/dmp/protocol';
import { seed } from '../../../src/main/dmp/server/seed';
import { DmpTestServer } from '../../../src/main/dmp/server/server';
import { createTestPki, type TestPki } from '../../../src/main/dmp/server/test-pki';
import { WIRE_PROFILE } from '../../../src/main/dmp/wire-profile';
import { createCore } from '../../../src/main/handlers';
import { softhsmModule, type ProvisionedToken } from '../../../src/main/identity/card/softhsm';
import { SANDBOX_PRACTITIONER, SANDBOX_STRUCTURE } from '../../../src/main/identity/pki/igc-sante-profile';
import { revokeCertificate, type SandboxPki } from '../../../src/main/identity/pki/test-ca';
import { HAS_SHARED, sharedPath } from '../../support/shared';
import { tempDir } from '../../support/tmp';
import { testIdentity } from '../identity/fixtures';
import { makeCda, SCHEMAS } from './support';

/** A .p12 from PEM files (the decoy PKI only has PEMs). */
function p12Of(cert: string, key: string, out: string, password: string): string {
  execFileSync('openssl', ['pkcs12', '-export', '-in', cert, '-inkey', key, '-passout', `pass:${password}`, '-out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

const INS_VALID = '279035121518989'; // seeded with a VALIDE authorization for the card holder only
const INS_NEW = '185067512300159';

describe.skipIf(!HAS_SHARED || !softhsmModule())('production DMP configuration: Settings certificates + trust store + session practitioner', () => {
  const tmp = tempDir('lps-dmp-prod-');
  let pki: SandboxPki;
  let token: ProvisionedToken;
  let pin: string;
  let decoy: TestPki;
  let decoyP12: { auth: string; sign: string; otherAuth: string; otherSign: string; password: string };
  let server: DmpTestServer;
  let core: Core;
  const savedConf = process.env['SOFTHSM2_CONF'];
  const call = (m: string, input: unknown) => core.registry.invoke(m, input, { transport: 'test' });
  const errorOf = async (m: string, input: unknown) => {
    const r = await call(m, input);
    if (r.ok) throw new Error(`${m} unexpectedly succeeded`);
    return r.error;
  };
  const setDmp = (auth: string, sign: string, password: string) =>
    core.registry.call('config.dmp.set', { url: server.url, authP12: auth, signP12: sign, password }, { transport: 'test' });

  beforeAll(async () => {
    ({ pki, token, pin } = await testIdentity(path.join(tmp.dir, 'identity')));
    // Another CA, same structure id: only the CA tells the certificates apart.
    decoy = createTestPki(path.join(tmp.dir, 'decoy'), SANDBOX_STRUCTURE.structureId);
    const pw = 'decoy-password';
    decoyP12 = {
      auth: p12Of(decoy.org.authCert, decoy.org.authKey, path.join(tmp.dir, 'decoy', 'auth.p12'), pw),
      sign: p12Of(decoy.org.signCert, decoy.org.signKey, path.join(tmp.dir, 'decoy', 'sign.p12'), pw),
      otherAuth: p12Of(decoy.otherOrg.authCert, decoy.otherOrg.authKey, path.join(tmp.dir, 'decoy', 'other-auth.p12'), pw),
      otherSign: p12Of(decoy.otherOrg.signCert, decoy.otherOrg.signKey, path.join(tmp.dir, 'decoy', 'other-sign.p12'), pw),
      password: pw,
    };

    // The DMP test server trusts only the Settings PKI (root + intermediates) and serves its server certificate.
    fs.mkdirSync(path.join(tmp.dir, 'server'), { recursive: true });
    server = new DmpTestServer({
      port: 0,
      dbFile: path.join(tmp.dir, 'server', 'dmp.sqlite'),
      schemaDir: SCHEMAS,
      tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caBundle },
      log: (l) => fs.appendFileSync(path.join(tmp.dir, 'server.log'), l + '\n'),
    });
    seed(server.store, {
      practitionerId: SANDBOX_PRACTITIONER.nationalId,
      crImg: fs.readFileSync(sharedPath('fixtures', 'cda-ans', 'IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml')),
      kos: fs.readFileSync(sharedPath('fixtures', 'kos', 'nist-IDS-DEPT001-a.dcm')),
      repositoryUniqueId: WIRE_PROFILE.testRepositoryUniqueId,
    });
    await server.start();

    // The card is read through the PKCS#11 module chosen in the Settings; SoftHSM finds its token with this.
    process.env['SOFTHSM2_CONF'] = token.softhsmConf;
    core = createCore({ dataDir: path.join(tmp.dir, 'data'), runtime: 'node' });
    core.profiles.saveProduction({
      configuredAt: new Date().toISOString(),
      // Technical overrides (CNAM test platform: test NIR; schema check before sending) …
      // … and the old certificate source, which must no longer be used.
      dmp: { insOid: OID.insTestNir, schemaDir: SCHEMAS, url: 'https://127.0.0.1:1/nowhere/', practitioner: { nameId: '810001234567', name: 'Mauvais PRATICIEN' } },
      pki: { caCert: decoy.caCert, org: { authP12: decoyP12.auth, signP12: decoyP12.sign, p12Password: pw, structureId: SANDBOX_STRUCTURE.structureId, name: 'Leurre' } },
    });
    await core.registry.call('profile.choose', { profile: 'production' }, { transport: 'test' });
  });

  afterAll(async () => {
    await core?.close();
    await server?.stop();
    if (savedConf === undefined) delete process.env['SOFTHSM2_CONF'];
    else process.env['SOFTHSM2_CONF'] = savedConf;
    tmp.cleanup();
  });

  it('says what to configure in Paramètres, step by step, without any network call', async () => {
    let e = await errorOf('dmp.status', { ins: INS_VALID });
    expect(e).toMatchObject({ code: 'DMP_SETTINGS_MISSING', message: expect.stringContaining('Paramètres') });
    expect(e.message).toMatch(/certificats de la structure/);
    expect(e.detail).toBeTruthy();

    await setDmp(pki.org.authP12, pki.org.signP12, pki.org.p12Password);
    e = await errorOf('dmp.status', { ins: INS_VALID });
    expect(e).toMatchObject({ code: 'DMP_NOT_SIGNED_IN', message: expect.stringMatching(/carte CPS ou Pro Santé Connect/) });

    await core.registry.call('config.pkcs11.set', { module: token.module }, { transport: 'test' });
    expect(await call('identity.card.login', { pin })).toMatchObject({ ok: true });
    e = await errorOf('dmp.status', { ins: INS_VALID });
    expect(e).toMatchObject({ code: 'DMP_TRUST_MISSING', message: expect.stringMatching(/Paramètres › Magasin de confiance.*IGC Santé/) });
    expect(fs.existsSync(path.join(tmp.dir, 'server.log'))).toBe(false); // nothing reached the server
  });

  it('uses the Settings certificates, the Settings trust store and the card holder (real mTLS call, TD0.2 + TD0.3 + TD2.1)', async () => {
    await core.registry.call('config.trust.set', { caFiles: [pki.caCert], crlFiles: [] }, { transport: 'test' });
    const cfg = resolveDmpConfig(core);
    expect(cfg.client.baseUrl).toBe(server.url);
    expect(cfg.client.vihf).toMatchObject({ mode: 'INDIRECTE_RENFORCEE', nameId: SANDBOX_PRACTITIONER.nationalId, subjectName: 'Claire DURAND', structureId: SANDBOX_STRUCTURE.structureId });
    expect(cfg.client.vihf.roles[0]).toMatchObject({ code: '10', codeSystem: OID.profession });
    expect(cfg.client.sourceId).toMatch(/^2\.25\.\d+$/);
    expect(resolveDmpConfig(core).client.sourceId).toBe(cfg.client.sourceId); // one installation, one OID
    expect(cfg).toMatchObject({ insOid: OID.insTestNir, actor: SANDBOX_PRACTITIONER.nationalId, structureName: SANDBOX_STRUCTURE.name });

    // The authorization is seeded for the card holder only: VALIDE proves the VIHF carries the session practitioner.
    expect(await core.registry.call('dmp.status', { ins: INS_VALID }, { transport: 'test' })).toMatchObject({ dmp: 'ACTIF', authorization: 'VALIDE' });
    expect((await core.registry.call('dmp.authorize', { ins: INS_NEW }, { transport: 'test' })).after.authorization).toBe('VALIDE');
    expect(server.store.authorization(INS_NEW, SANDBOX_PRACTITIONER.nationalId).state).toBe('VALIDE');
    // TD2.1: signed with the Settings signature certificate, the structure is the author.
    const cda = makeCda({ ins: INS_NEW, structureId: SANDBOX_STRUCTURE.structureId });
    const pub = await core.registry.call('dmp.publish', { cdaBase64: cda.xml.toString('base64'), masking: {} }, { transport: 'test' });
    expect(pub.outcome).toBe('published');
    const audit = core.db.prepare("SELECT actor FROM audit WHERE action = 'dmp.publish' AND outcome = 'success'").all() as { actor: string }[];
    expect(audit.map((a) => a.actor)).toEqual([SANDBOX_PRACTITIONER.nationalId]);
    // The password is a protected secret: never in the settings table.
    const settings = JSON.stringify(core.db.prepare('SELECT * FROM settings').all());
    expect(settings).toContain(pki.org.authP12);
    expect(settings).not.toContain(pki.org.p12Password);
  });

  it('another structure certificate in the Settings is used — and refused by a DMP that does not trust it', async () => {
    await setDmp(decoyP12.auth, decoyP12.sign, decoyP12.password);
    const e = await errorOf('dmp.status', { ins: INS_VALID });
    expect(e.code).toBe('DMP_CERT_INVALID');
    expect(e.detail).toMatch(/not issued by a trusted CA/);
    // Certificates of another structure than the session's activity: refused before any call.
    await setDmp(decoyP12.otherAuth, decoyP12.otherSign, decoyP12.password);
    const m = await errorOf('dmp.status', { ins: INS_VALID });
    expect(m).toMatchObject({ code: 'DMP_STRUCTURE_MISMATCH', message: expect.stringContaining('Paramètres') });
    // Auth and signature of different structures.
    await setDmp(decoyP12.auth, decoyP12.otherSign, decoyP12.password);
    expect(await errorOf('dmp.status', { ins: INS_VALID })).toMatchObject({ code: 'DMP_SETTINGS_INVALID', message: expect.stringMatching(/même structure/) });
    await setDmp(pki.org.authP12, pki.org.signP12, pki.org.p12Password);
  });

  it('TLS verification uses the Settings trust store: a DMP server outside it is refused', async () => {
    await core.registry.call('config.trust.set', { caFiles: [decoy.caCert], crlFiles: [] }, { transport: 'test' });
    const e = await errorOf('dmp.status', { ins: INS_VALID });
    expect(e.code).toBe('DMP_TLS');
    await core.registry.call('config.trust.set', { caFiles: [pki.caCert], crlFiles: [] }, { transport: 'test' });
    expect(await core.registry.call('dmp.status', { ins: INS_VALID }, { transport: 'test' })).toMatchObject({ authorization: 'VALIDE' });
  });

  it('a p12 removed after it was configured, and a signed-out practitioner, give French errors', async () => {
    const moved = path.join(tmp.dir, 'moved-auth.p12');
    fs.copyFileSync(pki.org.authP12, moved);
    await setDmp(moved, pki.org.signP12, pki.org.p12Password);
    fs.rmSync(moved);
    expect(await errorOf('dmp.status', { ins: INS_VALID })).toMatchObject({ code: 'DMP_SETTINGS_INVALID', message: expect.stringMatching(/introuvable.*Paramètres › DMP/) });
    await setDmp(pki.org.authP12, pki.org.signP12, pki.org.p12Password);

    await core.registry.call('identity.session.signOut', {}, { transport: 'test' });
    expect(await errorOf('dmp.status', { ins: INS_VALID })).toMatchObject({ code: 'DMP_NOT_SIGNED_IN' });
  });

  // Last: revokes the DMP server's certificate in the Settings PKI.
  it('trust store: a DER CA file, CRLs checked — a revoked DMP server certificate is refused', async () => {
    await core.registry.call('identity.card.login', { pin }, { transport: 'test' });
    const der = path.join(tmp.dir, 'root.der');
    fs.writeFileSync(der, new X509Certificate(fs.readFileSync(pki.caCert)).raw);
    await core.registry.call('config.trust.set', { caFiles: [der], crlFiles: [pki.crl] }, { transport: 'test' });
    expect(await core.registry.call('dmp.status', { ins: INS_VALID }, { transport: 'test' })).toMatchObject({ authorization: 'VALIDE' });
    const leaf = fs.readFileSync(pki.serverCert, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0];
    await revokeCertificate(pki, leaf);
    const e = await errorOf('dmp.status', { ins: INS_VALID });
    expect(e.code).toBe('DMP_TLS');
    expect(e.detail).toMatch(/revoked/i);
  });
});
