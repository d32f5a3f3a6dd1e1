import { safeStorage } from 'electron';
import type { KeyProtector } from '../store/key-protector';

/** The data key wrapped by the OS keychain (DPAPI, Keychain, libsecret) through Electron's safeStorage. */
export function safeStorageProtector(): KeyProtector | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  return {
    kind: 'os-keychain',
    wrap: (key) => safeStorage.encryptString(key.toString('base64')),
    unwrap: (wrapped) => Buffer.from(safeStorage.decryptString(wrapped), 'base64'),
  };
}
