import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identitySandboxService, type IdentityProfileSections } from '../../../src/main/identity/sandbox-service';
import { softhsmModule } from '../../../src/main/identity/card/softhsm';
import { pscPasswordLogin } from '../../../src/main/identity/psc/test-login';
import { SandboxManager } from '../../../src/main/sandbox/manager';
import { tempDir } from '../../support/tmp';

describe.skipIf(!softhsmModule())('identity sandbox service (lps sandbox up): PKI, CPS token, PSC provider', () => {
  const tmp = tempDir('lps-idsb-');
  let manager: SandboxManager;
  let profile: IdentityProfileSections & { running: boolean };

  beforeAll(async () => {
    manager = new SandboxManager({ dataDir: tmp.dir, services: [identitySandboxService] });
    profile = (await manager.up()) as unknown as IdentityProfileSections & { running: boolean };
  });
  afterAll(async () => {
    await manager?.down();
    tmp.cleanup();
  });

  it('writes the pki, card and psc sections with existing files', () => {
    expect(profile.running).toBe(true);
    for (const f of [profile.pki.caCert, profile.pki.caBundle, profile.pki.crl, profile.pki.serverCert, profile.pki.serverKey, profile.pki.org.authP12, profile.pki.org.signP12, profile.card.softhsmConf]) expect(fs.existsSync(f), f).toBe(true);
    expect(profile.card).toMatchObject({ tokenLabel: 'CPS-SANDBOX', pin: '1234', holder: { nationalId: '899700012345' } });
    expect(profile.psc.practitioner.nationalId).toBe(profile.card.holder.nationalId); // same practitioner
  });

  it('PSC provider: 120 s access tokens, introspection for the mail server', async () => {
    const { client, accessToken } = await pscPasswordLogin(profile.psc);
    const res = await fetch(profile.psc.introspectionUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${profile.psc.introspectionClientId}:${profile.psc.introspectionClientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: accessToken }).toString(),
    });
    const body = (await res.json()) as { active: boolean; exp: number; iat: number; username: string };
    expect(body).toMatchObject({ active: true, username: profile.psc.practitioner.email });
    expect(body.exp - body.iat).toBe(120);
    await client.logout({ browser: false });
  });

  it('is idempotent: a second up keeps the same CA and token', async () => {
    const ca = fs.readFileSync(profile.pki.caCert, 'utf8');
    await manager.down();
    const again = (await manager.up()) as unknown as IdentityProfileSections;
    expect(fs.readFileSync(again.pki.caCert, 'utf8')).toBe(ca);
    expect(again.card.softhsmConf).toBe(profile.card.softhsmConf);
    expect(again.psc.introspectionClientSecret).toBe(profile.psc.introspectionClientSecret);
  });
});
