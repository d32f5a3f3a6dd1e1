import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The independent verifier: Debian's xmlsec1 (libxmlsec1-openssl), trusting only the given root CA. */
export const HAS_XMLSEC = (() => {
  try {
    execFileSync('xmlsec1', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export function xmlsecVerify(xml: string, rootCaPem: string, extra: string[] = []): { ok: boolean; output: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lps-xmlsec-'));
  const file = path.join(dir, 'signed.xml');
  fs.writeFileSync(file, xml);
  try {
    const out = execFileSync('xmlsec1', ['--verify', '--trusted-pem', rootCaPem, ...extra, file], { stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true, output: out.toString() };
  } catch (err) {
    const e = err as { stderr?: Buffer };
    return { ok: false, output: e.stderr?.toString() ?? String(err) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
