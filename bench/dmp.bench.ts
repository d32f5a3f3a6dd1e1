/**
 * DMP client overhead, next to the raw HTTPS (mTLS) round trip measured in the same run:
 *  1. TD3.1: parse a 500-entry AdhocQueryResponse (envelope + ebRIM → DocumentEntry[]) vs fetching its bytes;
 *  2. TD2.1: build + sign (XAdES, VIHF) + MTOM-package a 5 MB CDA vs POSTing 5 MB.
 */
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildExtrinsicObject } from '../src/main/dmp/ebrim';
import { syntheticDmpEntry } from '../test/support/dmp-entries';
import { entryFromCda } from '../src/main/dmp/metadata';
import { buildMtom } from '../src/main/dmp/mtom';
import { ACTIONS, responseAction } from '../src/main/dmp/protocol';
import { createTestPki } from '../src/main/dmp/server/test-pki';
import { pemSigning } from '../src/main/dmp/signing';
import { buildRequestEnvelope, buildResponseEnvelope, parseEnvelope } from '../src/main/dmp/soap';
import { buildProvideAndRegister } from '../src/main/dmp/submission';
import { post } from '../src/main/dmp/transport';
import { buildVihf, dnOf } from '../src/main/dmp/vihf';
import { buildAdhocQueryResponse, parseAdhocQueryResponse } from '../src/main/dmp/xds-messages';
import { uuidOid } from '../src/main/dmp/xml-util';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lps-dmp-bench-'));
const pki = createTestPki(path.join(dir, 'pki'));
const read = (f: string): string => fs.readFileSync(f, 'utf8');
const tls = { cert: read(pki.org.authCert), key: read(pki.org.authKey), ca: read(pki.caCert) };
const signing = pemSigning({ keyPem: read(pki.org.signKey), certPem: read(pki.org.signCert) });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
async function time(n: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn(); // warm-up
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}
const fmt = (ms: number): string => `${ms.toFixed(1).padStart(8)} ms`;


async function main(): Promise<void> {
  // A plain mTLS HTTPS server answering with fixed bytes: the raw round trip baseline.
  let answer = Buffer.alloc(0);
  const answerType = 'application/soap+xml';
  const server = https.createServer({ cert: read(pki.serverCert), key: read(pki.serverKey), ca: read(pki.caCert), requestCert: true, rejectUnauthorized: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': answerType });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const url = `https://127.0.0.1:${port}/`;
  const roundTrip = (body: Buffer | string, contentType = 'application/soap+xml') =>
    post({ url, contentType, body, tls, connectTimeoutMs: 5000, requestTimeoutMs: 60_000 });

  // 1. TD3.1, 500 entries
  const objects = Array.from({ length: 500 }, (_, i) => buildExtrinsicObject(syntheticDmpEntry(i, { uniqueId: uuidOid() }))).join('');
  const response = buildResponseEnvelope(responseAction(ACTIONS.td31), 'urn:uuid:x', buildAdhocQueryResponse(objects));
  answer = Buffer.from(response);
  const rawQuery = await time(15, () => roundTrip('<x/>'));
  const parse = await time(15, () => {
    const env = parseEnvelope(answer);
    const r = parseAdhocQueryResponse(env.payload!);
    if (r.entries.length !== 500) throw new Error('parse');
  });
  console.log(`TD3.1 response of 500 entries (${(answer.length / 1024).toFixed(0)} KiB)`);
  console.log(`  raw HTTPS mTLS round trip (baseline) ${fmt(rawQuery)}`);
  console.log(`  client parse (envelope + ebRIM)      ${fmt(parse)}  (${(parse / rawQuery).toFixed(2)}× the round trip)`);

  // 2. TD2.1, 5 MB CDA
  const pdfB64 = Buffer.alloc(3_700_000, 7).toString('base64');
  const cda = Buffer.from(
    fs
      .readFileSync(path.resolve(__dirname, '..', '..', 'shared', 'fixtures', 'cda-ans', 'DOC_NON_STRUCTURE_CDA-R2-N1.xml'), 'utf8')
      .replace(/(<text[^>]*mediaType="application\/pdf"[^>]*>)[^<]*(<\/text>)/, `$1${pdfB64}$2`),
  );
  answer = Buffer.from(buildResponseEnvelope(responseAction(ACTIONS.td21), 'urn:uuid:x', '<rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/>'));
  let mtomBody: { contentType: string; body: Buffer } | undefined;
  const build = await time(7, async () => {
    const { entry: e } = entryFromCda(cda);
    const built = await buildProvideAndRegister([{ entry: e, data: cda }], { signing, sourceId: '1.2.3' });
    const vihf = await signing.signAssertion(
      buildVihf({
        mode: 'INDIRECTE', issuerDn: dnOf(signing.certPem), nameId: '810001234567', subjectName: 'Dr X', roles: [{ code: '10', codeSystem: '1.2.250.1.71.1.2.7' }],
        sector: 'SA07', structureId: pki.org.structureId, patient: { ins: '279035121518989', insOid: '1.2.250.1.213.1.4.10' }, lps: { id: 'a', name: 'b', version: 'c', homologation: 'd' },
      }).xml,
    );
    const env = buildRequestEnvelope({ action: ACTIONS.td21, to: url, assertionXml: vihf, bodyXml: built.bodyXml });
    mtomBody = buildMtom(env.xml, built.attachments, ACTIONS.td21);
  });
  const rawPost = await time(7, () => roundTrip(mtomBody!.body, mtomBody!.contentType));
  console.log(`TD2.1 of a ${(cda.length / 1048576).toFixed(1)} MiB CDA (request ${(mtomBody!.body.length / 1048576).toFixed(1)} MiB)`);
  console.log(`  raw HTTPS mTLS POST (baseline)       ${fmt(rawPost)}`);
  console.log(`  client build + sign + MTOM           ${fmt(build)}  (${(build / rawPost).toFixed(2)}× the round trip)`);
  server.close();
  server.closeAllConnections();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((err: unknown) => {
  console.error(err);
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(1);
});
