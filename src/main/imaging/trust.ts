import tls from 'node:tls';
import { pemsOf, settingsCaFiles } from '../config/trust-store';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';

/**
 * The trust store for an https PACS: the platform's roots (a DRIMbox may present a public certificate) plus the CAs
 * of Paramètres › Magasin de confiance (IGC Santé), re-read when that list changes (checked every few seconds).
 */
export function trustProvider(core: Pick<Core, 'settings'>): () => string[] | undefined {
  let cached: { key: string; pems: string[] | undefined; at: number } | undefined;
  return () => {
    const files = settingsCaFiles(core);
    const key = files.join('\n');
    if (cached && cached.key === key && Date.now() - cached.at < 5000) return cached.pems;
    const fail = (f: string, err: Error) =>
      new AppError('IMAGING_TRUST_INVALID', `Un certificat du magasin de confiance est introuvable ou illisible (${f}) : corrigez la liste dans Paramètres › Magasin de confiance.`, `${f}: ${err.message}`);
    const pems = files.length ? [...tls.rootCertificates, ...pemsOf(files, fail)] : undefined;
    cached = { key, pems, at: Date.now() };
    return pems;
  };
}

