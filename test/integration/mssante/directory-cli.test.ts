import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sandboxDirectoryData } from '../../../src/main/mssante/directory-fhir-server';
import { directoryExtraction } from '../../../src/main/mssante/sandbox-service';
import { ensureLocalMailPki } from '../../../src/main/mssante/sandbox-pki';
import { freePort, waitForPort } from '../../../src/main/sandbox/ports';
import { isAlive, spawnDetached, stopPid } from '../../../src/main/sandbox/processes';
import { runLps } from '../../support/cli';
import { tempDir } from '../../support/tmp';
import { ACCOUNTS, DOMAIN } from './directory-accounts';

/**
 * `lps directory search … --online --json` through the real command line, against the sandbox FHIR annuaire
 * started the way `lps sandbox up` starts it (its own detached process, config file, HTTPS, API key), then with
 * that process stopped: the local results still come, with the warning, exit code 0.
 */
const ROOT = path.resolve(__dirname, '../../..');

let tmp: ReturnType<typeof tempDir>;
let dataDir: string;
let pid: number | undefined;

async function lps(args: string[], stdin?: string): Promise<{ code: number; json: any; stderr: string }> {
  const r = await runLps([...args, '--json'], { dataDir, timeoutMs: 60_000, ...(stdin !== undefined ? { stdin } : {}) });
  return { code: r.code, json: JSON.parse(r.stdout), stderr: r.stderr };
}

describe('lps directory search --online', () => {
  beforeAll(async () => {
    tmp = tempDir('lps-dir-cli-');
    dataDir = path.join(tmp.dir, 'data');
    const pki = ensureLocalMailPki(path.join(tmp.dir, 'pki'));
    const dir = path.join(tmp.dir, 'annuaire');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'data.json'), JSON.stringify(sandboxDirectoryData(ACCOUNTS, DOMAIN)));
    const port = await freePort();
    const apiKey = 'sbx-annuaire-cli-test-0123456789abcdef';
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ port, host: '127.0.0.1', apiKey, certFile: pki.serverCert, keyFile: pki.serverKey, dataFile: path.join(dir, 'data.json') }), { mode: 0o600 });
    pid = spawnDetached({ command: process.execPath, args: ['--import', 'tsx', path.join(ROOT, 'src/main/mssante/directory-fhir-server-main.ts'), path.join(dir, 'config.json')], cwd: ROOT, logFile: path.join(tmp.dir, 'annuaire.log') });
    await waitForPort(port, { timeoutMs: 20_000, isAlive: () => isAlive(pid!) });
    const profile = { version: 1, running: false, runDir: path.join(dataDir, 'sandbox', 'run'), services: {}, mail: { caFiles: [pki.caCert] }, directoryFhir: { url: `https://127.0.0.1:${port}/fhir/v2`, apiKey, caFiles: [pki.caCert] } };
    fs.mkdirSync(path.join(dataDir, 'sandbox'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'sandbox', 'profile.json'), JSON.stringify(profile));
    fs.writeFileSync(path.join(tmp.dir, 'extraction.txt'), directoryExtraction(ACCOUNTS));
  }, 60_000);
  afterAll(async () => {
    if (pid) await stopPid(pid);
    tmp?.cleanup();
  });

  it('merges the online annuaire after the local index, then falls back to the local results with a warning', async () => {
    expect((await lps(['directory', 'import', path.join(tmp.dir, 'extraction.txt')])).json).toMatchObject({ rows: 4 });
    // Without --online: the local index only.
    const local = await lps(['directory', 'search', '--name', 'leroy']);
    expect(local.json).toMatchObject({ total: 0, entries: [] });
    // Online: a pharmacist published only in the annuaire.
    const online = await lps(['directory', 'search', '--name', 'leroy', '--online']);
    expect(online.code).toBe(0);
    expect(online.json.entries).toEqual([expect.objectContaining({ address: `helene.leroy@${DOMAIN}`, profession: 'Pharmacien', city: 'EPERNAY', source: 'annuaire-fhir' })]);
    // By national id: the local entry, the online duplicate dropped.
    const byId = await lps(['directory', 'search', '--id', '810001234567', '--online']);
    expect(byId.json.entries).toEqual([expect.objectContaining({ address: `jean.dupont@${DOMAIN}`, source: 'local' })]);
    expect(byId.json.online).toMatchObject({ added: 0, duplicates: 1 });
    // The configuration as the CLI shows it: never the key.
    const cfg = await lps(['directory', 'online']);
    expect(cfg.json).toMatchObject({ source: 'sandbox', apiKeySet: true });
    expect(JSON.stringify(cfg.json)).not.toContain('sbx-annuaire-cli-test');

    // The online annuaire stops: the local results, the warning on stderr and in the JSON, exit code 0.
    await stopPid(pid!);
    pid = undefined;
    const down = await lps(['directory', 'search', '--city', 'reims', '--online']);
    expect(down.code).toBe(0);
    expect(down.json.entries.map((e: { address: string }) => e.address).sort()).toEqual(ACCOUNTS.map((a) => a.address).sort());
    expect(down.json.warning).toMatchObject({ code: 'DIRECTORY_FHIR_UNREACHABLE' });
    expect(down.stderr).toContain('annuaire local reste disponible');
  }, 90_000);

  it('stores a production API key read from stdin, never echoed', async () => {
    const r = await lps(['directory', 'online', '--base-url', 'https://gateway.api.esante.gouv.fr/fhir/v2', '--api-key-stdin'], 'prod-key-from-stdin-42\n');
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ source: 'settings', baseUrl: 'https://gateway.api.esante.gouv.fr/fhir/v2', apiKeySet: true });
    expect(r.stderr + JSON.stringify(r.json)).not.toContain('prod-key-from-stdin-42');
  }, 60_000);
});
