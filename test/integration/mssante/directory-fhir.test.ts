import fs from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../../src/main/core/app-core';
import { createCore } from '../../../src/main/handlers';
import { directoryExtraction } from '../../../src/main/mssante/sandbox-service';
import { FhirDirectoryClient, type FhirDirectoryConfig } from '../../../src/main/mssante/directory-fhir';
import { createFhirDirectoryServer, sandboxDirectoryData } from '../../../src/main/mssante/directory-fhir-server';
import { searchDirectoryWithOnline } from '../../../src/main/mssante/directory-online';
import { ensureLocalMailPki, type MailPki } from '../../../src/main/mssante/sandbox-pki';
import { ACCOUNTS, DOMAIN } from './directory-accounts';
import { freePort } from '../../../src/main/sandbox/ports';
import { tempDir } from '../../support/tmp';

/**
 * The online directory source against the sandbox FHIR annuaire (HTTPS with a test CA, API key header):
 * searches by name / national id / profession / city, paging through `next` links, FHIR errors (401, 400,
 * 429), the merge with the local index (local first, de-duplicated by address) and a server that is down
 * (local results + warning). The app goes through `mssante.directory.search` with `online: true`.
 */
const KEY = 'sbx-annuaire-test-key-0123456789';

let tmp: ReturnType<typeof tempDir>;
let pki: MailPki;
let server: https.Server;
let limited: https.Server;
let baseUrl: string;
let limitedUrl: string;
let core: Core;
let dataDir: string;

function listen(s: https.Server): Promise<string> {
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(`https://127.0.0.1:${(s.address() as AddressInfo).port}/fhir/v2`)));
}
const cfg = (over: Partial<FhirDirectoryConfig> = {}): FhirDirectoryConfig => ({ baseUrl, apiKey: KEY, ca: [fs.readFileSync(pki.caCert)], ...over });
const client = (over: Partial<FhirDirectoryConfig> = {}, limits?: Partial<ConstructorParameters<typeof FhirDirectoryClient>[1]>) =>
  new FhirDirectoryClient(cfg(over), { requestTimeoutMs: 5000, searchTimeoutMs: 10_000, maxPages: 4, pageSize: 50, maxResponseBytes: 8 << 20, ...limits });

/** Writes the sandbox-shaped profile with the `directoryFhir` section pointing at `url`. */
function writeProfile(url: string, apiKey = KEY) {
  const profile = { version: 1, running: false, runDir: path.join(dataDir, 'sandbox', 'run'), services: {}, mail: { caFiles: [pki.caCert] }, directoryFhir: { url, apiKey, caFiles: [pki.caCert] } };
  fs.mkdirSync(path.join(dataDir, 'sandbox'), { recursive: true });
  fs.writeFileSync(path.join(dataDir, 'sandbox', 'profile.json'), JSON.stringify(profile));
}

async function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: any; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca: fs.readFileSync(pki.caCert), headers }, (res) => {
        let b = '';
        res.on('data', (c) => (b += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(b), headers: res.headers }));
      })
      .on('error', reject);
  });
}

beforeAll(async () => {
  tmp = tempDir('lps-dir-fhir-');
  pki = ensureLocalMailPki(path.join(tmp.dir, 'pki'));
  const data = sandboxDirectoryData(ACCOUNTS, DOMAIN);
  const tlsOpts = { cert: fs.readFileSync(pki.serverCert), key: fs.readFileSync(pki.serverKey) };
  server = createFhirDirectoryServer({ apiKey: KEY, data, tls: tlsOpts });
  limited = createFhirDirectoryServer({ apiKey: KEY, data, tls: tlsOpts, rateLimit: { max: 2, windowMs: 60_000 } });
  baseUrl = await listen(server);
  limitedUrl = await listen(limited);
  dataDir = path.join(tmp.dir, 'data');
  writeProfile(baseUrl);
  core = createCore({ dataDir, runtime: 'node' });
  // The local index: the sandbox extraction file (the two PER + ORG + APP mailboxes).
  const file = path.join(tmp.dir, 'extraction.txt');
  fs.writeFileSync(file, directoryExtraction(ACCOUNTS));
  await core.registry.call('mssante.directory.import', { file });
}, 60_000);

afterAll(async () => {
  await core?.close();
  await new Promise((r) => server?.close(r));
  await new Promise((r) => limited?.close(r));
  tmp?.cleanup();
});

describe('sandbox FHIR annuaire (FHIR semantics)', () => {
  it('requires the API key: 401 with an OperationOutcome without it or with a wrong one', async () => {
    const none = await rawGet(`${baseUrl}/Practitioner?family=martin`, {});
    expect(none.status).toBe(401);
    expect(none.body).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'security' }] });
    expect((await rawGet(`${baseUrl}/Practitioner?family=martin`, { 'ESANTE-API-KEY': 'wrong' })).status).toBe(401);
  });

  it('answers a searchset Bundle with total, self/next links, matches and _revinclude-d roles', async () => {
    const r = await rawGet(`${baseUrl}/Practitioner?family=MART&_count=10&_revinclude=PractitionerRole:practitioner`, { 'ESANTE-API-KEY': KEY });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 30 });
    const entries = r.body.entry as { resource: { resourceType: string }; search: { mode: string } }[];
    expect(entries.filter((e) => e.search.mode === 'match')).toHaveLength(10);
    expect(entries.filter((e) => e.search.mode === 'include' && e.resource.resourceType === 'PractitionerRole')).toHaveLength(10);
    expect(r.body.link.map((l: { relation: string }) => l.relation)).toEqual(['self', 'next']);
    // The last page has a previous link and no next.
    const last = await rawGet(`${baseUrl}/Practitioner?family=MART&_count=10&_getpagesoffset=20`, { 'ESANTE-API-KEY': KEY });
    expect(last.body.link.map((l: { relation: string }) => l.relation)).toEqual(['self', 'previous']);
  });

  it('refuses unknown parameters, bad modifiers and bad _count with a 400 OperationOutcome', async () => {
    for (const q of ['Practitioner?surname=x', 'Practitioner?family:fuzzy=x', 'Practitioner?_count=0', 'Practitioner?_count=500', 'Practitioner?_include=PractitionerRole:organization', 'Organization?family=x']) {
      const r = await rawGet(`${baseUrl}/${q}`, { 'ESANTE-API-KEY': KEY });
      expect(r.status, q).toBe(400);
      expect(r.body.resourceType, q).toBe('OperationOutcome');
    }
  });
});

describe('FHIR client', () => {
  it('finds by name, by national id (idNatPs or bare RPPS) and by profession, with organisation and city', async () => {
    const byName = await client().search({ family: 'leroy' });
    expect(byName.entries).toEqual([
      { address: `helene.leroy@${DOMAIN}`, kind: 'PER', nationalId: '810009990001', family: 'LEROY', given: 'Hélène', profession: 'Pharmacien', specialty: null, organization: 'PHARMACIE DES COTEAUX', city: 'EPERNAY', postalCode: '51200', source: 'annuaire-fhir' },
    ]);
    expect((await client().search({ nationalId: '810001234567' })).entries.map((e) => e.address)).toEqual([`jean.dupont@${DOMAIN}`]);
    expect((await client().search({ nationalId: '10001234567' })).entries.map((e) => e.address)).toEqual([]); // entries keep idNatPs: a bare RPPS is another value
    // A mailbox only on the situation d'exercice (PractitionerRole.telecom).
    expect((await client().search({ family: 'garnier', profession: 'infirmier' })).entries).toMatchObject([{ address: `lucie.garnier.msp@${DOMAIN}`, profession: 'Infirmier', city: 'CHALONS-EN-CHAMPAGNE' }]);
    expect((await client().search({ family: 'garnier', profession: 'pharmacien' })).entries).toEqual([]);
  });

  it('never returns red-listed, inactive or non-MSSanté addresses', async () => {
    for (const family of ['discret', 'ancien', 'sansbal']) expect((await client().search({ family })).entries, family).toEqual([]);
  });

  it('searches a city through its organisations: practitioners there and the organisations own mailboxes', async () => {
    const r = await client().search({ city: 'chalons', limit: 50 });
    const addresses = r.entries.map((e) => e.address);
    expect(addresses).toContain(`secretariat.msp-chalons@${DOMAIN}`);
    expect(addresses).toContain(`lucie.garnier.msp@${DOMAIN}`);
    expect(addresses.filter((a) => a.startsWith('martin.'))).toHaveLength(10);
    expect(r.entries.every((e) => e.city === 'CHALONS-EN-CHAMPAGNE')).toBe(true);
    // Free text: each word tried as the family name, every word must match the entry.
    expect((await client().search({ text: 'hélène leroy' })).entries.map((e) => e.address)).toEqual([`helene.leroy@${DOMAIN}`]);
  });

  it('follows next links up to the limit, and stops at the page cap', async () => {
    const c = client({}, { pageSize: 10 });
    const all = await c.search({ family: 'martin', limit: 30 });
    expect(c.requests).toBe(3 + 1); // three pages, then the organisations of the roles
    expect(all.entries).toHaveLength(30);
    expect(new Set(all.entries.map((e) => e.address)).size).toBe(30);
    expect(all.more).toBe(false);
    const capped = await client({}, { pageSize: 7, maxPages: 2 }).search({ family: 'martin', limit: 30 });
    expect(capped.entries).toHaveLength(14);
    expect(capped.more).toBe(true);
    const limited10 = await client({}, { pageSize: 7 }).search({ family: 'martin', limit: 10 });
    expect(limited10.entries).toHaveLength(10);
    expect(limited10.more).toBe(true);
  });

  it('turns FHIR and network failures into precise French errors', async () => {
    await expect(client({ apiKey: 'not-the-key' }).search({ family: 'leroy' })).rejects.toMatchObject({ code: 'DIRECTORY_FHIR_AUTH', userMessage: expect.stringContaining('clé d’API') });
    expect(() => client({ apiKey: '' })).toThrow(expect.objectContaining({ code: 'DIRECTORY_FHIR_NO_KEY' }));
    expect(() => client({ baseUrl: baseUrl.replace('https:', 'http:') })).toThrow(expect.objectContaining({ code: 'DIRECTORY_FHIR_URL' }));
    // A server certificate from another CA: refused (verification always on).
    const other = ensureLocalMailPki(path.join(tmp.dir, 'other-pki'));
    await expect(client({ ca: [fs.readFileSync(other.caCert)] }).search({ family: 'leroy' })).rejects.toMatchObject({ code: 'DIRECTORY_FHIR_TLS' });
    // Rate limited: 429 + Retry-After.
    const rl = client({ baseUrl: limitedUrl });
    await rl.search({ family: 'leroy' }); // 2 requests: practitioners + their organisations
    await expect(rl.search({ family: 'leroy' })).rejects.toMatchObject({ code: 'DIRECTORY_FHIR_RATE_LIMITED', userMessage: expect.stringMatching(/Réessayez dans \d+ s/) });
    // Nobody listening.
    const port = await freePort();
    await expect(client({ baseUrl: `https://127.0.0.1:${port}/fhir/v2` }).search({ family: 'leroy' })).rejects.toMatchObject({ code: 'DIRECTORY_FHIR_UNREACHABLE', userMessage: expect.stringContaining('annuaire local reste disponible') });
  });
});

describe('mssante.directory.search with online', () => {
  const search = (q: Record<string, unknown>) => core.registry.call('mssante.directory.search', q);

  it('gives local results first, then online ones, de-duplicated by address', async () => {
    const local = await search({ family: 'dupont' });
    expect(local.entries).toMatchObject([{ address: `jean.dupont@${DOMAIN}`, source: 'local' }]);
    expect(local.online).toBeUndefined();
    const r = await search({ given: 'claire', online: true });
    expect(r.entries).toMatchObject([{ address: `claire.durand@${DOMAIN}`, source: 'local' }]);
    expect(r.online).toMatchObject({ added: 0, duplicates: 1 });
    const city = await search({ city: 'reims', online: true, limit: 50 });
    const sources = city.entries.map((e) => e.source);
    expect(sources.indexOf('annuaire-fhir')).toBeGreaterThan(sources.lastIndexOf('local')); // local first
    const addrs = city.entries.map((e) => e.address);
    expect(new Set(addrs).size).toBe(addrs.length);
    expect(city.entries.filter((e) => e.source === 'local').map((e) => e.address).sort()).toEqual(ACCOUNTS.map((a) => a.address).sort());
    expect(city.online).toMatchObject({ added: 10, duplicates: 4 }); // the 10 MARTIN of Reims; the 4 sandbox mailboxes already local
    expect(city.total).toBe(14);
    expect(city.warning).toBeUndefined();
  });

  it('keeps the local results with a warning when the online annuaire fails (wrong key, server down)', async () => {
    writeProfile(baseUrl, 'a-wrong-key-for-the-sandbox');
    const wrong = await search({ family: 'dupont', online: true });
    expect(wrong.entries.map((e) => e.address)).toEqual([`jean.dupont@${DOMAIN}`]);
    expect(wrong.warning).toMatchObject({ code: 'DIRECTORY_FHIR_AUTH' });
    const port = await freePort();
    writeProfile(`https://127.0.0.1:${port}/fhir/v2`);
    const down = await search({ family: 'dupont', online: true });
    expect(down.entries.map((e) => e.address)).toEqual([`jean.dupont@${DOMAIN}`]);
    expect(down.warning).toMatchObject({ code: 'DIRECTORY_FHIR_UNREACHABLE', message: expect.stringContaining('annuaire local reste disponible') });
    // The failure is traced, without the key.
    const trail = JSON.stringify(await core.registry.call('audit.list', { action: 'mssante.directory.online', limit: 10, offset: 0 }));
    expect(trail).toContain('DIRECTORY_FHIR_UNREACHABLE');
    expect(trail).not.toContain(KEY);
    expect(trail).not.toContain('a-wrong-key-for-the-sandbox');
    writeProfile(baseUrl);
  });

  it('reports the online configuration without the key; production settings store the key encrypted', async () => {
    expect(await core.registry.call('mssante.directory.online.get', {})).toEqual({ source: 'sandbox', baseUrl, apiKeySet: true });
    await expect(core.registry.call('mssante.directory.online.set', { baseUrl: 'http://annuaire.example/fhir' })).rejects.toMatchObject({ code: 'CONFIG_URL_NOT_HTTPS' });
    const set = await core.registry.call('mssante.directory.online.set', { baseUrl: 'https://gateway.api.esante.gouv.fr/fhir/v2/', apiKey: 'prod-key-abcdef-123456' });
    expect(set).toEqual({ source: 'settings', baseUrl: 'https://gateway.api.esante.gouv.fr/fhir/v2', apiKeySet: true });
    // Not in the settings table nor the database in clear.
    const files = fs.readdirSync(dataDir).filter((f) => f.startsWith('lps.sqlite'));
    expect(files).toContain('lps.sqlite');
    for (const f of files) expect(fs.readFileSync(path.join(dataDir, f)).includes(Buffer.from('prod-key-abcdef-123456')), f).toBe(false);
    expect(JSON.stringify(await core.registry.call('mssante.directory.online.get', {}))).not.toContain('prod-key');
  });

  it('production profile: no key → warning; then the encrypted key and the Settings trust store reach the server', async () => {
    const prodDir = path.join(tmp.dir, 'prod');
    const prod = createCore({ dataDir: prodDir, runtime: 'node' });
    try {
      prod.profiles.saveProduction({ configuredAt: new Date().toISOString() });
      await prod.registry.call('profile.choose', { profile: 'production' });
      const none = await prod.registry.call('mssante.directory.search', { family: 'leroy', online: true });
      expect(none.entries).toEqual([]);
      expect(none.warning).toMatchObject({ code: 'DIRECTORY_FHIR_NO_KEY', message: expect.stringContaining('Paramètres › Annuaire') });
      await prod.registry.call('mssante.directory.online.set', { baseUrl, apiKey: KEY });
      // The test CA is not a public root: refused until it is in the Settings trust store.
      expect((await prod.registry.call('mssante.directory.search', { family: 'leroy', online: true })).warning).toMatchObject({ code: 'DIRECTORY_FHIR_TLS' });
      await prod.registry.call('config.trust.set', { caFiles: [pki.caCert], crlFiles: [] });
      const found = await prod.registry.call('mssante.directory.search', { family: 'leroy', online: true });
      expect(found.warning).toBeUndefined();
      expect(found.entries.map((e) => [e.address, e.source])).toEqual([[`helene.leroy@${DOMAIN}`, 'annuaire-fhir']]);
      await prod.registry.call('mssante.directory.online.set', { clearApiKey: true });
      expect(await prod.registry.call('mssante.directory.online.get', {})).toEqual({ source: 'settings', baseUrl, apiKeySet: false });
    } finally {
      await prod.close();
    }
  });

  it('searches with searchDirectoryWithOnline directly (no online → local entries only)', async () => {
    const r = await searchDirectoryWithOnline(core, { family: 'martin', limit: 50, online: false });
    expect(r.entries).toEqual([]);
  });
});
