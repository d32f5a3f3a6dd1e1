import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openssl } from './openssl';
import { CA_NAMES, SANDBOX_STRUCTURE, type CertKind, type DnField } from './igc-sante-profile';

/**
 * A local test certification authority shaped like the IGC Santé: a self-signed root and two intermediates
 * ("Personnes" issues CPS certificates, "Organisations" issues the structure's ORG certificates and the
 * sandbox server certificate). Built with the `openssl` command line, persistent in one directory and
 * idempotent: the first call creates it, later calls reuse it.
 *
 * Sandbox/test material only: the private keys are unencrypted files (mode 0600) in that directory.
 */

export interface CaMaterial {
  dir: string;
  cert: string;
  key: string;
  config: string;
  crl: string;
}

export interface SandboxPki {
  dir: string;
  /** The self-signed root (PEM file): the trust anchor. */
  caCert: string;
  /** Root + intermediates (PEM file): what a Node `ca` option or a server's client-CA list needs. */
  caBundle: string;
  /** CRLs of the root and both intermediates, PEM, concatenated. */
  crl: string;
  /** Leaf for 127.0.0.1, 127.0.0.2 and localhost + the intermediate (PEM chain file). */
  serverCert: string;
  serverKey: string;
  org: {
    authP12: string;
    signP12: string;
    p12Password: string;
    structureId: string;
    name: string;
    authCertPem: string;
    signCertPem: string;
  };
  ca: { root: CaMaterial; personnes: CaMaterial; organisations: CaMaterial };
}

const MANIFEST = 'pki.json';

/** The test CA and sandbox certificates under `dir`, created on first use. */
export async function ensureSandboxPki(dir: string): Promise<SandboxPki> {
  const manifest = path.join(dir, MANIFEST);
  if (fs.existsSync(manifest)) {
    const pki = JSON.parse(fs.readFileSync(manifest, 'utf8')) as SandboxPki;
    const files = [pki.caCert, pki.caBundle, pki.crl, pki.serverCert, pki.serverKey, pki.org.authP12, pki.org.signP12];
    if (files.every((f) => fs.existsSync(f))) return pki;
  }
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });

  const root = await createCa(dir, 'root', CA_NAMES.root, undefined);
  const personnes = await createCa(dir, 'personnes', CA_NAMES.personnes, root);
  const organisations = await createCa(dir, 'organisations', CA_NAMES.organisations, root);

  const caBundle = path.join(dir, 'ca-bundle.pem');
  fs.writeFileSync(caBundle, [root.cert, personnes.cert, organisations.cert].map((f) => fs.readFileSync(f, 'utf8')).join(''));

  const pkiBase = { dir, ca: { root, personnes, organisations } };

  // Server certificate for every TLS test service.
  const serverKey = path.join(dir, 'server.key');
  await generateKey(serverKey);
  const serverLeaf = await issueCertificate(pkiBase, {
    kind: 'server',
    subject: [['C', 'FR'], ['O', SANDBOX_STRUCTURE.name], ['CN', 'localhost']],
    keyFile: serverKey,
  });
  const serverCert = path.join(dir, 'server-chain.pem');
  fs.writeFileSync(serverCert, serverLeaf + fs.readFileSync(organisations.cert, 'utf8'));

  // The structure's ORG certificates (authentication + signature), as .p12 like the ones the ANS delivers.
  const p12Password = crypto.randomBytes(12).toString('base64url');
  const org = { p12Password, structureId: SANDBOX_STRUCTURE.structureId, name: SANDBOX_STRUCTURE.name } as SandboxPki['org'];
  for (const use of ['auth', 'sign'] as const) {
    const keyFile = path.join(dir, `org-${use}.key`);
    await generateKey(keyFile);
    const certPem = await issueCertificate(pkiBase, {
      kind: use === 'auth' ? 'org-auth' : 'org-sign',
      subject: SANDBOX_STRUCTURE.orgSubject(use),
      keyFile,
    });
    const certFile = path.join(dir, `org-${use}.pem`);
    fs.writeFileSync(certFile, certPem);
    const p12 = path.join(dir, `org-${use}.p12`);
    await openssl(['pkcs12', '-export', '-inkey', keyFile, '-in', certFile, '-certfile', organisations.cert, '-name', `ORG ${use.toUpperCase()} ${SANDBOX_STRUCTURE.name}`, '-passout', 'stdin', '-out', p12], { input: p12Password + '\n' });
    fs.chmodSync(p12, 0o600);
    fs.rmSync(keyFile); // the .p12 is the only copy, as in real life
    if (use === 'auth') {
      org.authP12 = p12;
      org.authCertPem = certFile;
    } else {
      org.signP12 = p12;
      org.signCertPem = certFile;
    }
  }

  const crl = path.join(dir, 'crls.pem');
  const pki: SandboxPki = { ...pkiBase, caCert: root.cert, caBundle, crl, serverCert, serverKey, org };
  await regenerateCrls(pki);
  fs.writeFileSync(manifest, JSON.stringify(pki, null, 2), { mode: 0o600 });
  return pki;
}

type PkiCa = Pick<SandboxPki, 'ca'>;

export interface IssueRequest {
  kind: CertKind;
  subject: DnField[];
  /** A PEM private key file (software keys)… */
  keyFile?: string;
  /** …or a CSR already made and signed elsewhere (e.g. by a key on a PKCS#11 token). */
  csrPem?: string;
  /** Validity window; default: from now for the kind's usual duration. */
  notBefore?: Date;
  notAfter?: Date;
}

/** Issues a certificate from the intermediate matching its kind; returns the PEM leaf. */
export async function issueCertificate(pki: PkiCa, req: IssueRequest): Promise<string> {
  const ca = req.kind.startsWith('cps-') ? pki.ca.personnes : pki.ca.organisations;
  const work = fs.mkdtempSync(path.join(ca.dir, 'issue-'));
  try {
    const csr = path.join(work, 'req.csr');
    if (req.csrPem) fs.writeFileSync(csr, req.csrPem);
    else if (req.keyFile) await openssl(['req', '-new', '-key', req.keyFile, '-utf8', '-subj', subjectArg(req.subject), '-out', csr]);
    else throw new Error('issueCertificate: keyFile or csrPem is required');
    const out = path.join(work, 'cert.pem');
    const notBefore = req.notBefore ?? new Date(Date.now() - 60_000);
    const notAfter = req.notAfter ?? new Date(Date.now() + (req.kind === 'server' ? 800 : 3 * 365) * 86_400_000);
    await openssl([
      'ca', '-batch', '-config', ca.config, '-in', csr, '-out', out, '-notext', '-preserveDN', '-utf8',
      '-extensions', `ext_${req.kind.replace('-', '_')}`,
      '-startdate', asn1Time(notBefore), '-enddate', asn1Time(notAfter),
    ]);
    return fs.readFileSync(out, 'utf8');
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Revokes a certificate issued by this PKI and regenerates the CRLs. */
export async function revokeCertificate(pki: Pick<SandboxPki, 'ca' | 'crl'>, certPem: string): Promise<void> {
  const cert = new crypto.X509Certificate(certPem);
  const ca = cert.issuer.includes(CA_NAMES.personnes) ? pki.ca.personnes : cert.issuer.includes(CA_NAMES.organisations) ? pki.ca.organisations : pki.ca.root;
  const file = path.join(ca.dir, `revoke-${cert.serialNumber}.pem`);
  fs.writeFileSync(file, certPem);
  await openssl(['ca', '-config', ca.config, '-revoke', file, '-crl_reason', 'keyCompromise']);
  fs.rmSync(file);
  await regenerateCrls(pki);
}

async function regenerateCrls(pki: Pick<SandboxPki, 'ca' | 'crl'>): Promise<void> {
  const parts: string[] = [];
  for (const ca of [pki.ca.root, pki.ca.personnes, pki.ca.organisations]) {
    await openssl(['ca', '-config', ca.config, '-gencrl', '-out', ca.crl]);
    parts.push(fs.readFileSync(ca.crl, 'utf8'));
  }
  fs.writeFileSync(pki.crl, parts.join(''));
}

async function generateKey(file: string): Promise<void> {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
}

async function createCa(base: string, name: string, cn: string, parent: CaMaterial | undefined): Promise<CaMaterial> {
  const dir = path.join(base, name);
  fs.mkdirSync(path.join(dir, 'newcerts'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, 'index.txt'), '');
  fs.writeFileSync(path.join(dir, 'serial'), crypto.randomBytes(8).toString('hex').replace(/^./, '1') + '\n');
  fs.writeFileSync(path.join(dir, 'crlnumber'), '1000\n');
  const ca: CaMaterial = { dir, cert: path.join(dir, 'ca.pem'), key: path.join(dir, 'ca.key'), config: path.join(dir, 'ca.cnf'), crl: path.join(dir, 'crl.pem') };
  fs.writeFileSync(ca.config, caConfig(ca));
  await generateKey(ca.key);
  const subject = subjectArg([['C', 'FR'], ['O', 'ASIP-SANTE'], ['OU', 'IGC-SANTE TEST'], ['CN', cn]]);
  const days = 20 * 365;
  if (!parent) {
    await openssl(['req', '-new', '-x509', '-config', ca.config, '-extensions', 'ext_root', '-key', ca.key, '-utf8', '-subj', subject, '-days', String(days), '-sha256', '-out', ca.cert]);
  } else {
    const csr = path.join(dir, 'ca.csr');
    await openssl(['req', '-new', '-config', ca.config, '-key', ca.key, '-utf8', '-subj', subject, '-out', csr]);
    await openssl(['ca', '-batch', '-config', parent.config, '-in', csr, '-out', ca.cert, '-notext', '-preserveDN', '-utf8', '-extensions', 'ext_intermediate', '-days', String(days - 30)]);
    fs.rmSync(csr);
  }
  return ca;
}

function caConfig(ca: CaMaterial): string {
  const dn = ['countryName', 'organizationName', 'organizationalUnitName', 'commonName', 'title', 'surname', 'givenName', 'serialNumber', 'localityName', 'emailAddress'];
  return `# Test CA shaped like the IGC Santé (sandbox only)
[ ca ]
default_ca = ca_default

[ ca_default ]
dir = ${ca.dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
serial = $dir/serial
crlnumber = $dir/crlnumber
certificate = ${ca.cert}
private_key = ${ca.key}
default_md = sha256
default_days = 1095
default_crl_days = 30
policy = policy_any
unique_subject = no
copy_extensions = none
email_in_dn = no
name_opt = utf8,sep_comma_plus
cert_opt = ca_default

[ policy_any ]
${dn.map((f) => `${f} = optional`).join('\n')}

[ req ]
distinguished_name = req_dn
string_mask = utf8only
utf8 = yes
[ req_dn ]

[ ext_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ ext_intermediate ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ ext_cps_auth ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth, emailProtection
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ ext_cps_sign ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ ext_org_auth ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ ext_org_sign ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always

[ ext_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:127.0.0.2, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
`;
}

/** `-subj` argument: `/K=V/…` with `/` and `\` escaped. */
export function subjectArg(fields: DnField[]): string {
  return fields.map(([k, v]) => `/${k}=${v.replace(/([\\/+])/g, '\\$1')}`).join('');
}

/** `YYYYMMDDHHMMSSZ` as `openssl ca -startdate/-enddate` want it. */
function asn1Time(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}
