import fs from 'node:fs';
import { AppError } from '../../core/errors';

/**
 * Where the CPS middleware ("CryptolibCPS") installs its PKCS#11 library, per OS. Names vary by version:
 * **unconfirmed** list, overridable by the setting `identity.pkcs11Module`.
 */
export const CPS_MODULE_DEFAULTS: Record<string, string[]> = {
  win32: ['C:\\Windows\\System32\\cps3_pkcs11_w64.dll', 'C:\\Windows\\System32\\cps_pkcs11_w64.dll', 'C:\\Windows\\SysWOW64\\cps3_pkcs11_w32.dll'],
  darwin: ['/usr/local/lib/libcps3_pkcs11_osx.dylib', '/Library/Frameworks/cps3_pkcs11.framework/cps3_pkcs11'],
  linux: ['/usr/lib64/libcps3_pkcs11_lux.so', '/usr/local/lib/libcps3_pkcs11_lux.so', '/usr/lib/libcps3_pkcs11_lux.so', '/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so'],
};

export const SETTING_PKCS11_MODULE = 'identity.pkcs11Module';

/** The module to load: the configured path, else the first per-OS default that exists; a clear error otherwise. */
export function resolvePkcs11Module(configured?: string, platform: NodeJS.Platform = process.platform): string {
  if (configured) {
    if (!fs.existsSync(configured)) {
      throw new AppError('CARD_MODULE_MISSING', `La bibliothèque de la carte CPS est introuvable : ${configured}. Vérifiez l'installation du logiciel de la carte (Cryptolib CPS) ou le chemin dans les paramètres.`, `PKCS#11 module not found: ${configured}`);
    }
    return configured;
  }
  const candidates = CPS_MODULE_DEFAULTS[platform] ?? [];
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    throw new AppError('CARD_MODULE_MISSING', "Le logiciel de la carte CPS (Cryptolib CPS) n'est pas installé sur ce poste, ou sa bibliothèque n'a pas été trouvée. Installez-le, ou indiquez le chemin de la bibliothèque PKCS#11 dans les paramètres.", `none of: ${candidates.join(', ') || '(no default for this OS)'}`);
  }
  return found;
}
