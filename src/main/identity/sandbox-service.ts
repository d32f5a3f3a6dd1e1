import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxContext, SandboxService } from '../sandbox/service';
import { provisionCpsToken } from './card/softhsm';
import { NATIONAL_ID_TYPES, SANDBOX_PRACTITIONER, SANDBOX_STRUCTURE } from './pki/igc-sante-profile';
import { ensureSandboxPki } from './pki/test-ca';
import { PSC, sandboxPractitioner } from './psc/psc-profile';
import { issuerOf, type SandboxPscConfig } from './psc/sandbox-provider';

/** The sandbox CPS PIN (documented: the acceptance checks type it). */
export const SANDBOX_CARD_PIN = '1234';
export const SANDBOX_TOKEN_LABEL = 'CPS-SANDBOX';
export const SANDBOX_PSC_CLIENT_ID = 'lps-companion';
export const SANDBOX_INTROSPECTION_CLIENT_ID = 'mail-server';
/** PSC access tokens live 120 s in the sandbox (short on purpose: refresh paths get exercised). */
export const SANDBOX_ACCESS_TOKEN_TTL = 120;

/** The `pki`, `card` and `psc` profile sections (see docs/identity-api.md). */
export interface IdentityProfileSections {
  pki: {
    caCert: string;
    caBundle: string;
    crl: string;
    serverCert: string;
    serverKey: string;
    org: { authP12: string; signP12: string; p12Password: string; structureId: string; name: string; authCertPem: string; signCertPem: string };
  };
  card: {
    module: string;
    tokenLabel: string;
    softhsmConf: string;
    pin: string;
    authKeyId: string;
    signKeyId: string;
    authCertPem: string;
    signCertPem: string;
    holder: { nationalId: string; idType: string; idTypeLabel: string; rpps: string; lastName: string; firstName: string; professionCode: string; profession: string };
  };
  psc: {
    issuer: string;
    clientId: string;
    redirectHost: string;
    introspectionUrl: string;
    introspectionClientId: string;
    introspectionClientSecret: string;
    /** The same URL with the client credentials in it (Dovecot's oauth2 `introspection_url` sends them as Basic). */
    introspectionUrlWithCredentials: string;
    accessTokenTtl: number;
    practitioner: { login: string; password: string; nationalId: string; lastName: string; firstName: string; email: string; professionCode: string; structureId: string };
  };
}

interface Secrets {
  soPin: string;
  pscPassword: string;
  introspectionSecret: string;
}

/** Secrets chosen once and kept (0600) so the sandbox stays the same across `up`s. */
function sandboxSecrets(dir: string): Secrets {
  const file = path.join(dir, 'secrets.json');
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Secrets;
  } catch {
    const s: Secrets = {
      soPin: String(crypto.randomInt(10_000_000, 99_999_999)),
      pscPassword: `psc-${crypto.randomBytes(6).toString('base64url')}`,
      introspectionSecret: crypto.randomBytes(24).toString('base64url'),
    };
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, JSON.stringify(s), { mode: 0o600 });
    return s;
  }
}

/** Provisions the PKI and the CPS token (idempotent) and returns the `pki` and `card` sections. */
export async function provisionIdentityMaterial(baseDir: string): Promise<Pick<IdentityProfileSections, 'pki' | 'card'> & { secrets: Secrets }> {
  const secrets = sandboxSecrets(baseDir);
  const pki = await ensureSandboxPki(path.join(baseDir, 'pki'));
  const token = await provisionCpsToken({
    dir: path.join(baseDir, 'card'),
    label: SANDBOX_TOKEN_LABEL,
    pin: SANDBOX_CARD_PIN,
    soPin: secrets.soPin,
    holder: SANDBOX_PRACTITIONER,
    structure: SANDBOX_STRUCTURE,
    pki,
  });
  const h = SANDBOX_PRACTITIONER;
  return {
    secrets,
    pki: { caCert: pki.caCert, caBundle: pki.caBundle, crl: pki.crl, serverCert: pki.serverCert, serverKey: pki.serverKey, org: pki.org },
    card: {
      module: token.module,
      tokenLabel: token.tokenLabel,
      softhsmConf: token.softhsmConf,
      pin: SANDBOX_CARD_PIN,
      authKeyId: token.authKeyId,
      signKeyId: token.signKeyId,
      authCertPem: token.authCertPem,
      signCertPem: token.signCertPem,
      holder: {
        nationalId: h.nationalId,
        idType: h.nationalId.slice(0, 1),
        idTypeLabel: NATIONAL_ID_TYPES[h.nationalId.slice(0, 1)] ?? '',
        rpps: h.nationalId.slice(1),
        lastName: h.lastName,
        firstName: h.firstName,
        professionCode: h.professionCode,
        profession: h.profession,
      },
    },
  };
}

export const identitySandboxService: SandboxService = {
  id: 'identity',
  title: 'Identité : IGC Santé de test, CPS de test (SoftHSM), Pro Santé Connect',
  requires: {
    debian: ['openssl', 'softhsm2', 'opensc', 'libengine-pkcs11-openssl'],
    binaries: ['openssl', 'softhsm2-util', 'pkcs11-tool'],
  },
  async start(ctx: SandboxContext) {
    const base = path.join(ctx.sandboxDir, 'identity');
    ctx.log('Identité : autorité de certification de test et carte CPS de test…');
    const { pki, card, secrets } = await provisionIdentityMaterial(base);

    const port = await ctx.freePort();
    const practitioner = sandboxPractitioner(secrets.pscPassword);
    const cfg: SandboxPscConfig = {
      host: ctx.host,
      port,
      clientId: SANDBOX_PSC_CLIENT_ID,
      introspectionClientId: SANDBOX_INTROSPECTION_CLIENT_ID,
      introspectionClientSecret: secrets.introspectionSecret,
      accessTokenTtl: SANDBOX_ACCESS_TOKEN_TTL,
      refreshTokenTtl: 8 * 3600,
      practitioners: [practitioner],
    };
    const cfgFile = path.join(ctx.runDir, 'psc-provider.json');
    fs.writeFileSync(cfgFile, JSON.stringify(cfg), { mode: 0o600 });
    const pid = ctx.spawnNode('psc-provider', path.join(ctx.appRoot, 'src', 'main', 'identity', 'psc', 'sandbox-provider-main.ts'), [cfgFile]);
    await ctx.waitForPort(port, pid, 30_000);

    const issuer = issuerOf(ctx.host, port);
    const introspectionUrl = `${issuer}${PSC.routes.introspection}`;
    const sections: IdentityProfileSections = {
      pki,
      card,
      psc: {
        issuer,
        clientId: SANDBOX_PSC_CLIENT_ID,
        redirectHost: '127.0.0.1',
        introspectionUrl,
        introspectionClientId: SANDBOX_INTROSPECTION_CLIENT_ID,
        introspectionClientSecret: secrets.introspectionSecret,
        introspectionUrlWithCredentials: introspectionUrl.replace('http://', `http://${SANDBOX_INTROSPECTION_CLIENT_ID}:${secrets.introspectionSecret}@`),
        accessTokenTtl: SANDBOX_ACCESS_TOKEN_TTL,
        practitioner: {
          login: practitioner.login,
          password: practitioner.password,
          nationalId: practitioner.nationalId,
          lastName: practitioner.lastName,
          firstName: practitioner.firstName,
          email: practitioner.email,
          professionCode: practitioner.professionCode,
          structureId: practitioner.structure.structureId,
        },
      },
    };
    Object.assign(ctx.profile, sections);
    return { url: issuer, ports: { psc: port } };
  },
};
