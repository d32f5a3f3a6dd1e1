import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A minimal test PKI made with the openssl CLI: a CA, a TLS server certificate for 127.0.0.1/localhost and
 * ORG certificates (auth + sign) for a test structure, plus an expired one for negative tests.
 *
 * Adapter: the identity capability owns the sandbox PKI (profile section `pki`). This is used by the DMP
 * tests (so they do not depend on it) and by the DMP sandbox service only when no `pki` section exists.
 */
export interface TestPki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  org: { structureId: string; name: string; authCert: string; authKey: string; signCert: string; signKey: string };
  /** Another structure (for "wrong author" cases). */
  otherOrg: { structureId: string; name: string; authCert: string; authKey: string; signCert: string; signKey: string };
  expired: { cert: string; key: string };
  /** A CPS-like practitioner certificate (direct mode): national id in the CN. */
  ps: { nationalId: string; cert: string; key: string };
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function issue(dir: string, name: string, subject: string, ext: string, opts: { days?: number; startOffsetDays?: number } = {}): { cert: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.crt`);
  const extFile = path.join(dir, `${name}.ext`);
  fs.writeFileSync(extFile, ext);
  openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr, '-subj', subject], dir);
  if (opts.startOffsetDays !== undefined) {
    // An already-expired certificate: validity window in the past (openssl ca-less route via x509 -not_before
    // is not available on 3.0, so use a tiny validity and explicit dates through `ca`-like options).
    const start = new Date(Date.now() + opts.startOffsetDays * 86400_000);
    const end = new Date(start.getTime() + (opts.days ?? 1) * 86400_000);
    const fmt = (d: Date): string => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
    const dbDir = path.join(dir, `${name}-ca`);
    fs.mkdirSync(dbDir, { recursive: true });
    fs.writeFileSync(path.join(dbDir, 'index.txt'), '');
    fs.writeFileSync(path.join(dbDir, 'serial'), '1000\n');
    const conf = path.join(dbDir, 'ca.cnf');
    fs.writeFileSync(
      conf,
      `[ca]\ndefault_ca=tca\n[tca]\ndir=${dbDir}\ndatabase=$dir/index.txt\nserial=$dir/serial\nnew_certs_dir=$dir\n` +
        `default_md=sha256\npolicy=pol\nunique_subject=no\ncopy_extensions=none\n[pol]\ncommonName=supplied\n`,
    );
    openssl(
      ['ca', '-batch', '-config', conf, '-cert', 'ca.crt', '-keyfile', 'ca.key', '-in', csr, '-out', cert, '-startdate', fmt(start), '-enddate', fmt(end), '-extfile', extFile, '-notext'],
      dir,
    );
  } else {
    openssl(['x509', '-req', '-in', csr, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', cert, '-days', String(opts.days ?? 825), '-sha256', '-extfile', extFile], dir);
  }
  return { cert, key };
}

const CLIENT_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n';
const SIGN_EXT = 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,nonRepudiation\n';

export function createTestPki(dir: string, structureId = '10B0012345', otherStructureId = '10B0067890'): TestPki {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caCert = path.join(dir, 'ca.crt');
  const caKey = path.join(dir, 'ca.key');
  if (!fs.existsSync(caCert)) {
    openssl(
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/C=FR/O=LPS Sandbox/CN=LPS Sandbox Test CA DMP',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      dir,
    );
  }
  const reuse = (name: string, make: () => { cert: string; key: string }): { cert: string; key: string } => {
    const cert = path.join(dir, `${name}.crt`);
    const key = path.join(dir, `${name}.key`);
    return fs.existsSync(cert) && fs.existsSync(key) ? { cert, key } : make();
  };
  const server = reuse('server', () =>
    issue(dir, 'server', '/C=FR/O=LPS Sandbox/CN=localhost',
      'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n'),
  );
  const org = (id: string, label: string): TestPki['org'] => {
    const name = `Cabinet ${label}`;
    const auth = reuse(`org-${id}-auth`, () => issue(dir, `org-${id}-auth`, `/C=FR/O=${name}/OU=${id}/CN=${id} AUTH`, CLIENT_EXT));
    const sign = reuse(`org-${id}-sign`, () => issue(dir, `org-${id}-sign`, `/C=FR/O=${name}/OU=${id}/CN=${id} SIGN`, SIGN_EXT));
    return { structureId: id, name, authCert: auth.cert, authKey: auth.key, signCert: sign.cert, signKey: sign.key };
  };
  const expired = reuse('expired', () => issue(dir, 'expired', `/C=FR/O=Cabinet Expire/OU=${structureId}/CN=${structureId}`, CLIENT_EXT, { startOffsetDays: -30, days: 2 }));
  const psId = '810001234567';
  const ps = reuse('ps-auth', () => issue(dir, 'ps-auth', `/C=FR/O=Cabinet Medical du Test/OU=${structureId}/CN=${psId}/SN=DURAND/GN=Claire`, CLIENT_EXT));
  return {
    dir,
    ps: { nationalId: psId, ...ps },
    caCert,
    caKey,
    serverCert: server.cert,
    serverKey: server.key,
    org: org(structureId, 'Medical du Test'),
    otherOrg: org(otherStructureId, 'Autre Structure'),
    expired,
  };
}
