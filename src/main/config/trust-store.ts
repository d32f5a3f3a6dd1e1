import fs from 'node:fs';
import type { Core } from '../core/app-core';
import type { AppError } from '../core/errors';
import { SETTING_TRUST, type TrustSettings } from './handlers';

/**
 * The certificates of a trust store as PEM blocks (PEM files, possibly bundles, or DER files). `fail` turns an
 * unreadable file into the caller's own error (each capability names the screen where it is fixed).
 */
export function pemsOf(files: string[], fail: (file: string, err: Error) => AppError): string[] {
  const out: string[] = [];
  for (const f of files) {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(f);
    } catch (err) {
      throw fail(f, err as Error);
    }
    const blocks = buf.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (blocks?.length) out.push(...blocks);
    else out.push(`-----BEGIN CERTIFICATE-----\n${buf.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END CERTIFICATE-----\n`); // DER
  }
  return out;
}

/** The CA files of Paramètres › Magasin de confiance. */
export function settingsCaFiles(core: Pick<Core, 'settings'>): string[] {
  return core.settings.get<TrustSettings>(SETTING_TRUST, { caFiles: [], crlFiles: [] }).caFiles;
}
