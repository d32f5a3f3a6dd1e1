import crypto from 'node:crypto';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';

/**
 * The key of the imaging disk cache, stable across restarts and protected like the documents at rest:
 * a random 256-bit secret stored once in the core's encrypted blob store (so it is wrapped by the data key,
 * itself protected by the OS keychain in Electron), from which the cache key is derived with HKDF-SHA256
 * under a purpose label. The data key itself is never reused for the cache.
 *
 * Note for the foundation: if the core ever exposes `deriveKey(info)` (HKDF of the data key), use it here
 * instead of the stored secret; the cache would then be purged once (entries sealed with the old key are
 * unreadable and dropped by `DiskCache`).
 */
const SECRET_BLOB = 'imaging-cache-secret-v1';
const INFO = 'lps/imaging/disk-cache/v1';

export function imagingCacheKey(core: Pick<Core, 'blobs'>): Buffer {
  let secret: Buffer;
  if (core.blobs.has(SECRET_BLOB)) {
    secret = core.blobs.get(SECRET_BLOB);
  } else {
    secret = crypto.randomBytes(32);
    core.blobs.put(secret, SECRET_BLOB);
  }
  if (secret.length !== 32) throw new AppError('IMAGING_CACHE_KEY', "Le cache d'images est inutilisable.", 'cache secret is not 256 bits');
  return Buffer.from(crypto.hkdfSync('sha256', secret, Buffer.from('lps-imaging-cache'), Buffer.from(INFO), 32));
}
