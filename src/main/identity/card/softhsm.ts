import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { run, openssl } from '../pki/openssl';
import { cpsSubject, type HolderFacts } from '../pki/igc-sante-profile';
import { issueCertificate, subjectArg, type SandboxPki } from '../pki/test-ca';
import { pkcs11KeyUri } from '../tls/engine';

/** Debian's SoftHSM2 module (the test CPS in the sandbox and the tests). */
export const SOFTHSM_MODULE_CANDIDATES = ['/usr/lib/softhsm/libsofthsm2.so', '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so', '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so'];

export function softhsmModule(): string | undefined {
  return SOFTHSM_MODULE_CANDIDATES.find((p) => fs.existsSync(p));
}

export interface CpsTokenSpec {
  /** Directory holding `softhsm2.conf` and the token files. */
  dir: string;
  label: string;
  pin: string;
  soPin: string;
  holder: HolderFacts;
  structure: { name: string; structureId: string };
  pki: Pick<SandboxPki, 'ca'>;
}

export interface ProvisionedToken {
  module: string;
  softhsmConf: string;
  tokenLabel: string;
  /** CKA_ID (hex) of the authentication key pair + certificate. */
  authKeyId: string;
  /** CKA_ID (hex) of the signature key pair + certificate. */
  signKeyId: string;
  authCertPem: string;
  signCertPem: string;
  holder: HolderFacts;
}

export const AUTH_KEY_ID = '01';
export const SIGN_KEY_ID = '02';

/** Environment for any process that uses this token (SoftHSM reads SOFTHSM2_CONF at C_Initialize). */
export function tokenEnv(t: Pick<ProvisionedToken, 'softhsmConf' | 'module'>): NodeJS.ProcessEnv {
  return { ...process.env, SOFTHSM2_CONF: t.softhsmConf, PKCS11_MODULE_PATH: t.module };
}

/**
 * Provisions a SoftHSM2 token shaped like a CPS, idempotently: two RSA-2048 key pairs generated ON the token
 * (auth id 01, signature id 02, not extractable), CSRs signed by the token keys through the OpenSSL pkcs11
 * engine, certificates issued by the test CA "Personnes" intermediate and written back to the token.
 */
export async function provisionCpsToken(spec: CpsTokenSpec): Promise<ProvisionedToken> {
  const module = softhsmModule();
  if (!module) throw new Error(`SoftHSM2 is not installed (looked for ${SOFTHSM_MODULE_CANDIDATES.join(', ')})`);
  const manifestFile = path.join(spec.dir, 'token.json');
  const tokensDir = path.join(spec.dir, 'tokens');
  if (fs.existsSync(manifestFile) && fs.existsSync(tokensDir) && fs.readdirSync(tokensDir).length > 0) {
    const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as ProvisionedToken;
    if (m.tokenLabel === spec.label) return { ...m, module };
  }
  fs.rmSync(spec.dir, { recursive: true, force: true });
  fs.mkdirSync(tokensDir, { recursive: true, mode: 0o700 });
  const softhsmConf = path.join(spec.dir, 'softhsm2.conf');
  fs.writeFileSync(softhsmConf, `directories.tokendir = ${tokensDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = true\n`);
  const env = tokenEnv({ softhsmConf, module });

  await run('softhsm2-util', ['--init-token', '--free', '--label', spec.label, '--so-pin', spec.soPin, '--pin', spec.pin], { env });
  const tool = (args: string[]) => run('pkcs11-tool', ['--module', module, '--token-label', spec.label, ...args], { env });
  const certs: Record<'auth' | 'sign', string> = { auth: '', sign: '' };
  for (const [use, id] of [['auth', AUTH_KEY_ID], ['sign', SIGN_KEY_ID]] as const) {
    const label = use === 'auth' ? 'CPS_ID_AUTH' : 'CPS_ID_SIGN';
    await tool(['--login', '--pin', spec.pin, '--keypairgen', '--key-type', 'rsa:2048', '--id', id, '--label', label, '--usage-sign']);
    const uri = pkcs11KeyUri({ tokenLabel: spec.label, keyIdHex: id, pin: spec.pin });
    const csrPem = (
      await openssl(['req', '-new', '-engine', 'pkcs11', '-keyform', 'engine', '-key', uri, '-utf8', '-subj', subjectArg(cpsSubject(spec.holder, spec.structure, use))], { env })
    ).toString('utf8');
    const certPem = await issueCertificate(spec.pki, { kind: use === 'auth' ? 'cps-auth' : 'cps-sign', subject: [], csrPem });
    const der = path.join(spec.dir, `${use}.der`);
    fs.writeFileSync(der, new crypto.X509Certificate(certPem).raw);
    await tool(['--login', '--pin', spec.pin, '--write-object', der, '--type', 'cert', '--id', id, '--label', label]);
    fs.rmSync(der);
    certs[use] = certPem;
  }
  const token: ProvisionedToken = {
    module,
    softhsmConf,
    tokenLabel: spec.label,
    authKeyId: AUTH_KEY_ID,
    signKeyId: SIGN_KEY_ID,
    authCertPem: path.join(spec.dir, 'auth-cert.pem'),
    signCertPem: path.join(spec.dir, 'sign-cert.pem'),
    holder: spec.holder,
  };
  fs.writeFileSync(token.authCertPem, certs.auth);
  fs.writeFileSync(token.signCertPem, certs.sign);
  fs.writeFileSync(manifestFile, JSON.stringify(token, null, 2), { mode: 0o600 });
  return token;
}
