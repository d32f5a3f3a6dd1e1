import path from 'node:path';
import { provisionCpsToken, type ProvisionedToken } from '../../../src/main/identity/card/softhsm';
import { SANDBOX_PRACTITIONER, SANDBOX_STRUCTURE } from '../../../src/main/identity/pki/igc-sante-profile';
import { ensureSandboxPki, type SandboxPki } from '../../../src/main/identity/pki/test-ca';

/** A private PKI + CPS-like SoftHSM token for one test file (never the shared sandbox token: no lock risk). */
export async function testIdentity(dir: string): Promise<{ pki: SandboxPki; token: ProvisionedToken; pin: string }> {
  const pki = await ensureSandboxPki(path.join(dir, 'pki'));
  const pin = '4321';
  const token = await provisionCpsToken({ dir: path.join(dir, 'card'), label: 'CPS-TEST', pin, soPin: '11223344', holder: SANDBOX_PRACTITIONER, structure: SANDBOX_STRUCTURE, pki });
  return { pki, token, pin };
}
