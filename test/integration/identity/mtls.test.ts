import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { softhsmModule } from '../../../src/main/identity/card/softhsm';
import { ensureSandboxPki } from '../../../src/main/identity/pki/test-ca';
import { DEFAULT_ENGINE_PATH } from '../../../src/main/identity/tls/engine';
import { p12TlsIdentity, pkcs11EngineTlsIdentity, tlsConnectOptions, type TlsIdentity } from '../../../src/main/identity/tls/identity';
import { TrustStore } from '../../../src/main/identity/tls/trust-store';
import { tempDir } from '../../support/tmp';
import { testIdentity } from './fixtures';

/** A local TLS server requiring a client certificate from the test CA; answers with the client's subject CN. */
function startServer(cert: string, key: string, clientCa: string): Promise<{ port: number; close: () => Promise<void> }> {
  const server = tls.createServer({ cert, key, ca: clientCa, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' }, (sock) => {
    const peer = sock.getPeerCertificate();
    sock.end(`hello ${peer.subject?.CN ?? '?'}\n`);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ port: (server.address() as { port: number }).port, close: () => new Promise((r) => server.close(() => r())) }));
  });
}

function talk(port: number, opts: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', ...opts }, () => undefined);
    let data = '';
    sock.on('data', (d) => (data += d.toString()));
    sock.on('end', () => resolve(data.trim()));
    sock.on('error', reject);
  });
}

describe.skipIf(!softhsmModule() || !fs.existsSync(DEFAULT_ENGINE_PATH))('TLS identities: mTLS with the card key (OpenSSL pkcs11 engine) and the ORG .p12', () => {
  const tmp = tempDir('lps-mtls-');
  let fx: Awaited<ReturnType<typeof testIdentity>>;
  let server: Awaited<ReturnType<typeof startServer>>;
  let trust: TrustStore;

  beforeAll(async () => {
    fx = await testIdentity(tmp.dir);
    trust = TrustStore.fromProfile(fx.pki);
    server = await startServer(fs.readFileSync(fx.pki.serverCert, 'utf8'), fs.readFileSync(fx.pki.serverKey, 'utf8'), fs.readFileSync(fx.pki.caBundle, 'utf8'));
  });
  afterAll(async () => {
    await server?.close();
    tmp.cleanup();
  });

  function cardIdentity(pin: string): TlsIdentity {
    return pkcs11EngineTlsIdentity({
      module: fx.token.module,
      tokenLabel: fx.token.tokenLabel,
      keyIdHex: fx.token.authKeyId,
      pin,
      certPem: fs.readFileSync(fx.token.authCertPem, 'utf8'),
      chainPem: [fs.readFileSync(fx.pki.ca.personnes.cert, 'utf8')],
      env: { SOFTHSM2_CONF: fx.token.softhsmConf },
    });
  }

  it('authenticates with the CPS authentication key on the token (key never leaves it)', async () => {
    expect(await talk(server.port, tlsConnectOptions(trust, cardIdentity(fx.pin)))).toBe('hello 899700012345');
  });

  it('authenticates with the structure ORG authentication certificate (.p12)', async () => {
    const id = p12TlsIdentity(fx.pki.org.authP12, fx.pki.org.p12Password);
    expect(await talk(server.port, tlsConnectOptions(trust, id))).toBe('hello AUTH.3990000001');
  });

  it('the server refuses a client without certificate', async () => {
    await expect(talk(server.port, tlsConnectOptions(trust))).rejects.toThrow();
  });

  it('refuses a server whose certificate is not in the trust store', async () => {
    const other = await ensureSandboxPki(path.join(tmp.dir, 'other-pki'));
    const id = p12TlsIdentity(fx.pki.org.authP12, fx.pki.org.p12Password);
    await expect(talk(server.port, tlsConnectOptions(TrustStore.fromProfile(other, { withCrl: false }), id))).rejects.toMatchObject({ code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' });
    // With the other PKI's CRLs configured it is refused as well (same CA names, different keys).
    await expect(talk(server.port, tlsConnectOptions(TrustStore.fromProfile(other), id))).rejects.toMatchObject({ code: expect.stringMatching(/UNABLE_TO_GET_ISSUER|SIGNATURE_FAILURE/) });
    // The same with the system CAs only (no sandbox CA): refused too.
    await expect(talk(server.port, { ...id.tlsOptions() })).rejects.toMatchObject({ code: expect.stringMatching(/UNABLE_TO|SELF_SIGNED/) });
  });
});
