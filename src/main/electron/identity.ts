/**
 * Identity in the Electron build (the only place, with the bootstrap, that imports `electron`):
 * - Pro Santé Connect opens the system browser (`shell.openExternal`) and keeps its refresh token in a vault
 *   encrypted by the OS keychain (`safeStorage`), only when encryption is available; the session is restored
 *   from it at start-up;
 * - card mTLS goes through Chromium's network stack (`net.fetch`): Chromium sees the CPS through the OS
 *   certificate store, and `select-client-certificate` picks the certificate of the signed-in card.
 * See docs/identity-api.md, "Electron wiring", for how to try it on a workstation.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { App, Certificate, Net, SafeStorage, Shell } from 'electron';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { configureIdentity, restorePscSession } from '../identity/runtime';
import type { RefreshTokenVault } from '../identity/psc/psc-client';
import { identitySession } from '../identity/session';
import type { TlsIdentity } from '../identity/tls/identity';

/** Settings key of the encrypted refresh token (base64 of the safeStorage ciphertext). */
export const SETTING_PSC_REFRESH = 'identity.psc.refresh';

/** The PSC refresh token, encrypted with safeStorage, in the settings table. `undefined` without OS encryption. */
export function safeStorageVault(core: Pick<Core, 'settings'>, safeStorage: Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'>): RefreshTokenVault | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  return {
    async save(token) {
      core.settings.set(SETTING_PSC_REFRESH, safeStorage.encryptString(token).toString('base64'));
    },
    async load() {
      const stored = core.settings.get<string>(SETTING_PSC_REFRESH);
      if (!stored) return undefined;
      try {
        return safeStorage.decryptString(Buffer.from(stored, 'base64'));
      } catch {
        core.settings.delete(SETTING_PSC_REFRESH); // keychain changed: the token is unusable
        return undefined;
      }
    },
    async clear() {
      core.settings.delete(SETTING_PSC_REFRESH);
    },
  };
}

/** `sha256/<base64>` of a DER certificate, the form of Electron's `Certificate.fingerprint`. */
export function electronFingerprint(der: Buffer): string {
  return `sha256/${createHash('sha256').update(der).digest('base64')}`;
}

function derOf(cert: Pick<Certificate, 'data'>): Buffer | undefined {
  try {
    return Buffer.from(new X509Certificate(cert.data).raw);
  } catch {
    return undefined;
  }
}

/** The certificate of `list` that is the card's authentication certificate (by DER, else by fingerprint). */
export function pickCardCertificate<C extends Pick<Certificate, 'data' | 'fingerprint'>>(list: C[], cardAuthDer: Buffer | undefined): C | undefined {
  if (!cardAuthDer) return undefined;
  const fp = electronFingerprint(cardAuthDer);
  return list.find((c) => derOf(c)?.equals(cardAuthDer)) ?? list.find((c) => c.fingerprint === fp);
}

/**
 * The card as a TLS client identity in Electron: requests go through Chromium (`net.fetch`), which asks
 * `select-client-certificate` (answered below) and the OS store / middleware for the key and the PIN.
 */
export interface ElectronTlsIdentity extends TlsIdentity {
  kind: 'electron-os-store';
  fetch(url: string, init?: RequestInit): Promise<Response>;
}

export function electronOsStoreTlsIdentity(core: Core, net: Pick<Net, 'fetch'>): ElectronTlsIdentity {
  const cardCert = () => {
    const der = identitySession(core).cardAuthCertificate();
    if (!der) throw new AppError('NOT_SIGNED_IN', 'Connectez-vous avec votre carte CPS.', 'no card session');
    return der;
  };
  return {
    kind: 'electron-os-store',
    label: 'carte CPS (magasin de certificats du système)',
    certificatePem: () => new X509Certificate(cardCert()).toString(),
    tlsOptions: () => {
      throw new AppError('TLS_ELECTRON_NETWORK', "Cette connexion passe par le réseau de l'application de bureau.", 'electron-os-store has no Node TLS options: use fetch()');
    },
    fetch: (url, init) => {
      cardCert();
      return net.fetch(url, init as never);
    },
  };
}

export interface ElectronIdentityDeps {
  app: Pick<App, 'on'>;
  shell: Pick<Shell, 'openExternal'>;
  safeStorage: Pick<SafeStorage, 'isEncryptionAvailable' | 'encryptString' | 'decryptString'>;
  net: Pick<Net, 'fetch'>;
}

/** Wires identity for the Electron app; returns the card TLS identity (Chromium network stack). */
export function wireElectronIdentity(core: Core, deps: ElectronIdentityDeps): { tls: ElectronTlsIdentity; restored: Promise<unknown> } {
  const vault = safeStorageVault(core, deps.safeStorage);
  configureIdentity(core, { openBrowser: (url) => deps.shell.openExternal(url), ...(vault ? { vault } : {}) });
  deps.app.on('select-client-certificate', (event, _webContents, url, list, callback) => {
    // Electron's default would pick the FIRST certificate of the store: always decide here.
    event.preventDefault();
    const chosen = pickCardCertificate(list, identitySession(core).cardAuthCertificate());
    if (!chosen) {
      callback(); // no card session: no client certificate
      return;
    }
    core.audit.append({ actor: identitySession(core).get().practitioner?.nationalId ?? 'utilisateur', action: 'identity.tls.client-certificate', subject: new URL(url).host, outcome: 'success', details: {} });
    callback(chosen);
  });
  return { tls: electronOsStoreTlsIdentity(core, deps.net), restored: restorePscSession(core) };
}
