import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxContext } from '../sandbox/service';
import { sandboxDirectoryData } from './directory-fhir-server';

/** The profile section of the sandbox FHIR annuaire (read by directory-online.ts). */
export interface SandboxDirectoryFhirSection {
  url: string;
  /** Sandbox-only test key (like the sandbox mailbox passwords); production keys live encrypted in the settings. */
  apiKey: string;
  caFiles: string[];
  practitioners: number;
}

/**
 * Starts the sandbox FHIR annuaire (a detached Node process, HTTPS with the mail sandbox's server certificate,
 * on a free loopback port) serving the sandbox mailboxes plus online-only practitioners.
 */
export async function startSandboxDirectoryFhir(
  ctx: SandboxContext,
  o: { dir: string; accounts: { address: string; kind: string; family?: string; given?: string; nationalId?: string; profession?: string }[]; domain: string; caFile: string; serverCert: string; serverKey: string },
): Promise<{ section: SandboxDirectoryFhirSection; port: number }> {
  const dir = path.join(o.dir, 'annuaire-fhir');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const data = sandboxDirectoryData(o.accounts, o.domain);
  const dataFile = path.join(dir, 'data.json');
  fs.writeFileSync(dataFile, JSON.stringify(data));
  const port = await ctx.freePort();
  const apiKey = `sbx-annuaire-${crypto.randomBytes(16).toString('hex')}`;
  const config = path.join(dir, 'config.json');
  fs.writeFileSync(config, JSON.stringify({ port, host: ctx.host, apiKey, certFile: o.serverCert, keyFile: o.serverKey, dataFile }), { mode: 0o600 });
  const pid = ctx.spawnNode('annuaire-fhir', path.join(ctx.appRoot, 'src', 'main', 'mssante', 'directory-fhir-server-main.ts'), [config]);
  await ctx.waitForPort(port, pid, 20_000);
  return { section: { url: `https://${ctx.host}:${port}/fhir/v2`, apiKey, caFiles: [o.caFile], practitioners: data.practitioners.length }, port };
}
