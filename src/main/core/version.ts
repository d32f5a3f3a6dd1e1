import fs from 'node:fs';
import path from 'node:path';

/** Version and the X-MSS-NIL software identifier, read once from package.json. */
export interface ProductInfo {
  name: string;
  version: string;
}

let cached: ProductInfo | undefined;

export function productInfo(): ProductInfo {
  if (cached) return cached;
  // Works from the sources (src/main/core) and from the bundle (out/main).
  for (const rel of ['../../../package.json', '../../package.json', '../package.json']) {
    const file = path.resolve(__dirname, rel);
    try {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; productName?: string; version?: string };
      if (pkg.name === 'lps-companion') {
        cached = { name: pkg.productName ?? 'Compagnon LPS', version: pkg.version ?? '0.0.0' };
        return cached;
      }
    } catch {
      /* try the next location */
    }
  }
  cached = { name: 'Compagnon LPS', version: '0.0.0' };
  return cached;
}
