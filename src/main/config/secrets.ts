import type { Core } from '../core/app-core';

/**
 * Configuration secrets (the structure .p12 password, the PSC client secret): encrypted at rest in the blob
 * store (AES-256-GCM, data key protected by the OS keychain in Electron), never in the settings table, never
 * returned to the renderer. Capabilities read them here.
 */
export type ConfigSecret = 'dmp-p12-password' | 'psc-client-secret' | 'annuaire-api-key';

const blobId = (name: ConfigSecret) => `config-secret-${name}`;

export function writeConfigSecret(core: Pick<Core, 'blobs'>, name: ConfigSecret, value: string): void {
  core.blobs.put(value, blobId(name));
}

export function readConfigSecret(core: Pick<Core, 'blobs'>, name: ConfigSecret): string | undefined {
  return core.blobs.has(blobId(name)) ? core.blobs.get(blobId(name)).toString('utf8') : undefined;
}

export function hasConfigSecret(core: Pick<Core, 'blobs'>, name: ConfigSecret): boolean {
  return core.blobs.has(blobId(name));
}

export function deleteConfigSecret(core: Pick<Core, 'blobs'>, name: ConfigSecret): void {
  if (core.blobs.has(blobId(name))) core.blobs.delete(blobId(name));
}
