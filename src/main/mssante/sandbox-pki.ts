import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A throw-away PKI for the mail servers when the identity capability's sandbox PKI (profile `pki`) is
 * absent: a test CA, a server certificate for 127.0.0.1/localhost and a client certificate for the
 * applicative mailbox (BAL APP). Everything is generated with the openssl command line into `dir`
 * (a sandbox or temporary directory, never the repository).
 */
export interface MailPki {
  caCert: string;
  serverCert: string;
  serverKey: string;
  /** Client certificate + key for the BAL APP (PEM files), issued by `caCert`. */
  appClientCert?: string;
  appClientKey?: string;
  /** PKCS#12 alternative for the client identity (when the identity capability provides one). */
  appClientP12?: string;
  appClientP12Password?: string;
  crl?: string;
  /** `local` when generated here, `identity` when taken from the sandbox profile. */
  source: 'local' | 'identity';
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Generates (or reuses, when already there) the local CA, server and APP client certificates. */
export function ensureLocalMailPki(dir: string, appSubjectCn = 'PFI sandbox'): MailPki {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = (n: string) => path.join(dir, n);
  const pki: MailPki = {
    caCert: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    appClientCert: f('app-client.crt'),
    appClientKey: f('app-client.key'),
    source: 'local',
  };
  if ([pki.caCert, pki.serverCert, pki.serverKey, pki.appClientCert!, pki.appClientKey!].every((p) => fs.existsSync(p))) return pki;
  const days = '825';
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', days, '-subj', '/C=FR/O=LPS sandbox/CN=LPS sandbox mail test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  fs.writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/C=FR/O=LPS sandbox/CN=localhost'], dir);
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', days, '-extfile', 'server.ext'], dir);
  fs.writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'app-client.key', '-out', 'app-client.csr', '-subj', `/C=FR/O=LPS sandbox/OU=AUTH_CLI/CN=${appSubjectCn}`], dir);
  openssl(['x509', '-req', '-in', 'app-client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'app-client.crt', '-days', days, '-extfile', 'client.ext'], dir);
  for (const n of ['server.key', 'app-client.key', 'ca.key']) fs.chmodSync(f(n), 0o600);
  return pki;
}
