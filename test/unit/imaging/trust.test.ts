import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { SETTING_TRUST } from '../../../src/main/config/handlers';
import type { Core } from '../../../src/main/core/app-core';
import { trustProvider } from '../../../src/main/imaging/trust';
import { tempDir } from '../../support/tmp';

const settingsWith = (caFiles: string[]) =>
  ({ settings: { get: (key: string, dflt: unknown) => (key === SETTING_TRUST ? { caFiles, crlFiles: [] } : dflt) } }) as unknown as Pick<Core, 'settings'>;

describe('imaging trust store', () => {
  it('is the platform roots plus the CAs of the Settings (PEM or DER), or the platform default when none is configured', () => {
    const tmp = tempDir();
    try {
      const pem = tls.rootCertificates[0]!;
      const pemFile = path.join(tmp.dir, 'igc.pem');
      fs.writeFileSync(pemFile, pem);
      const derFile = path.join(tmp.dir, 'igc.der');
      fs.writeFileSync(derFile, Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
      const got = trustProvider(settingsWith([pemFile, derFile]))()!;
      expect(got).toHaveLength(tls.rootCertificates.length + 2);
      expect(got.slice(-2).map((p) => p.replace(/\s/g, ''))).toEqual([pem.replace(/\s/g, ''), pem.replace(/\s/g, '')]);
      expect(trustProvider(settingsWith([]))()).toBeUndefined();
    } finally {
      tmp.cleanup();
    }
  });

  it('names the unreadable file and where to fix it', () => {
    let err: { code?: string; userMessage?: string; detail?: string } = {};
    try {
      trustProvider(settingsWith(['/nonexistent/igc.pem']))();
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe('IMAGING_TRUST_INVALID');
    expect(err.userMessage).toMatch(/Paramètres › Magasin de confiance/);
    expect(err.detail).toContain('/nonexistent/igc.pem');
  });
});
