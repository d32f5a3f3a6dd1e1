import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/main/core/errors';
import { writePart10 } from '../../../src/main/imaging/dicom/writer';
import { DicomwebClient, type SeriesTarget } from '../../../src/main/imaging/dicomweb-client';
import { ensureLocalMailPki, type MailPki } from '../../../src/main/mssante/sandbox-pki';
import { tempDir } from '../../support/tmp';

/**
 * The DICOMweb client over https (a production PACS): the server certificate is verified against the trust store
 * given (never without), and credentials (bearer token, KOS-SOPInstanceUID) do not follow a redirect to another
 * origin. Local PKIs made with openssl, a Node https server standing for the PACS.
 */
const BOUNDARY = 'lps-test-boundary';
const instance = (sop: string) =>
  writePart10([
    [0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.2'],
    [0x00080018, 'UI', sop],
  ]);
const series = Buffer.concat([
  ...['1.2.3.1', '1.2.3.2'].flatMap((sop) => [Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`), instance(sop), Buffer.from('\r\n')]),
  Buffer.from(`--${BOUNDARY}--\r\n`),
]);

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

async function code(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    return err as AppError;
  }
  throw new Error('expected an error');
}

describe('DICOMweb client over https', () => {
  const tmp = tempDir('lps-imaging-tls-');
  let pki: MailPki;
  let other: MailPki;
  let pacs: https.Server;
  let redirector: http.Server;
  let pacsOrigin = '';
  let redirectOrigin = '';
  const seen: http.IncomingHttpHeaders[] = [];

  beforeAll(async () => {
    pki = ensureLocalMailPki(path.join(tmp.dir, 'pacs-pki'));
    other = ensureLocalMailPki(path.join(tmp.dir, 'other-pki'));
    pacs = https.createServer({ cert: fs.readFileSync(pki.serverCert), key: fs.readFileSync(pki.serverKey) }, (req, res) => {
      seen.push(req.headers);
      if (req.url === '/old/series') {
        res.writeHead(301, { location: '/dicom-web/studies/1.2/series/1.2.3' });
        return res.end();
      }
      res.writeHead(200, { 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` });
      res.end(series);
    });
    pacsOrigin = `https://127.0.0.1:${await listen(pacs)}`;
    redirector = http.createServer((req, res) => {
      res.writeHead(302, { location: `${pacsOrigin}/dicom-web/studies/1.2/series/1.2.3` });
      res.end();
    });
    redirectOrigin = `http://127.0.0.1:${await listen(redirector)}`;
  });

  afterAll(() => {
    pacs?.close();
    redirector?.close();
    tmp.cleanup();
  });

  const target = (seriesUrl: string): SeriesTarget => ({ seriesUrl, studyInstanceUid: '1.2', seriesInstanceUid: '1.2.3', kosSopInstanceUid: '9.8.7' });
  const sops = async (c: DicomwebClient, url: string) => {
    const out: string[] = [];
    for await (const i of c.retrieveSeries(target(url), { store: false })) out.push(i.sopInstanceUid);
    return out;
  };
  const client = (ca?: ConstructorParameters<typeof DicomwebClient>[0]['ca']) => new DicomwebClient({ getToken: () => 'psc-token', timeoutMs: 5000, ca });

  it('retrieves from a PACS whose certificate the trust store vouches for, with the token and the KOS header', async () => {
    seen.length = 0;
    const ca = fs.readFileSync(pki.caCert, 'utf8');
    expect(await sops(client(ca), `${pacsOrigin}/dicom-web/studies/1.2/series/1.2.3`)).toEqual(['1.2.3.1', '1.2.3.2']);
    expect(seen[0]!.authorization).toBe('Bearer psc-token');
    expect(seen[0]!['kos-sopinstanceuid']).toBe('9.8.7');
    // The trust store read at each request (a function: the Settings may change).
    expect(await sops(client(() => [ca]), `${pacsOrigin}/dicom-web/studies/1.2/series/1.2.3`)).toHaveLength(2);
  });

  it('refuses a PACS certificate from another authority, or checked against the platform roots alone', async () => {
    seen.length = 0;
    for (const ca of [fs.readFileSync(other.caCert, 'utf8'), undefined]) {
      const e = await code(sops(client(ca), `${pacsOrigin}/dicom-web/studies/1.2/series/1.2.3`));
      expect(e.code).toBe('IMAGING_DICOMWEB_UNREACHABLE');
      expect(e.detail).toMatch(/CERT|SIGNATURE|ISSUER/i);
    }
    expect(seen).toHaveLength(0); // nothing (no token) went to the untrusted server
  });

  it('follows a redirect, keeping the credentials on the same origin only', async () => {
    const ca = fs.readFileSync(pki.caCert, 'utf8');
    seen.length = 0;
    expect(await sops(client(ca), `${pacsOrigin}/old/series`)).toHaveLength(2);
    expect(seen.map((h) => h.authorization)).toEqual(['Bearer psc-token', 'Bearer psc-token']);
    seen.length = 0;
    expect(await sops(client(ca), `${redirectOrigin}/dicom-web/studies/1.2/series/1.2.3`)).toHaveLength(2);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.authorization).toBeUndefined();
    expect(seen[0]!['kos-sopinstanceuid']).toBeUndefined();
  });
});
