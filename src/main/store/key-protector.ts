import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Protects the data key that encrypts documents at rest. In Electron the key is wrapped with the OS
 * keychain through `safeStorage` (src/main/electron/); in plain Node (CLI, harness, tests) there is no OS
 * keychain binding, so the key file is only protected by the file system (mode 0600 in a 0700 folder).
 */
export interface KeyProtector {
  readonly kind: 'os-keychain' | 'file';
  wrap(key: Buffer): Buffer;
  unwrap(wrapped: Buffer): Buffer;
}

export const fileKeyProtector: KeyProtector = {
  kind: 'file',
  wrap: (key) => Buffer.from(key),
  unwrap: (wrapped) => Buffer.from(wrapped),
};

/** Loads the data key, creating it on first use. The key never leaves this process in clear. */
export function loadDataKey(dataDir: string, protector: KeyProtector): Buffer {
  const dir = path.join(dataDir, 'keys');
  const file = path.join(dir, `data-key.${protector.kind}`);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (fs.existsSync(file)) {
    const key = protector.unwrap(fs.readFileSync(file));
    if (key.length !== 32) throw new Error(`data key in ${file} is not 256 bits`);
    return key;
  }
  const key = crypto.randomBytes(32);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, protector.wrap(key), { mode: 0o600 });
  fs.renameSync(tmp, file);
  return key;
}
