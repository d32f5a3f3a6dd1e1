import fs from 'node:fs';

/**
 * The OpenSSL pkcs11 engine (Debian `libengine-pkcs11-openssl`, libp11). Node needs the full path (not the
 * engine id). Plain Node only: Electron's BoringSSL has no engines.
 */
export const ENGINE_CANDIDATES = [
  '/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so',
  '/usr/lib/aarch64-linux-gnu/engines-3/pkcs11.so',
  '/usr/lib64/engines-3/pkcs11.so',
  '/usr/local/lib/engines-3/pkcs11.so',
];

export const DEFAULT_ENGINE_PATH = ENGINE_CANDIDATES.find((p) => fs.existsSync(p)) ?? ENGINE_CANDIDATES[0]!;

/** RFC 7512 PKCS#11 URI of a private key on a token (libp11 syntax; the PIN is only ever in memory). */
export function pkcs11KeyUri(opts: { tokenLabel: string; keyIdHex: string; pin?: string }): string {
  const id = opts.keyIdHex.replace(/(..)/g, '%$1');
  return `pkcs11:token=${encodeURIComponent(opts.tokenLabel)};id=${id};type=private${opts.pin ? `;pin-value=${encodeURIComponent(opts.pin)}` : ''}`;
}
