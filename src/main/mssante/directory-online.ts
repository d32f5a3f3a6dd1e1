import tls from 'node:tls';
import type { DirectoryEntry, DirectoryOnlineView, DirectoryQuery, DirectorySearchResult } from '../../shared/api/mssante';
import { pemsOf, settingsCaFiles } from '../config/trust-store';
import { deleteConfigSecret, hasConfigSecret, readConfigSecret, writeConfigSecret } from '../config/secrets';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { searchDirectory } from './directory';
import { FhirDirectoryClient, type FhirDirectoryConfig, type OnlineResult } from './directory-fhir';
import { ANNUAIRE_FHIR_DEFAULT_BASE } from './directory-fhir-profile';

/**
 * The directory search of the app: the local index first, then — when asked — the online FHIR annuaire,
 * merged and de-duplicated by address. The online part never makes the search fail: its error comes back
 * as a `warning` beside the local results.
 *
 * Where the online annuaire is: in the sandbox profile, the sandbox's FHIR server (profile section
 * `directoryFhir` {url, apiKey}, trusted through the mail sandbox CA); in production, the settings
 * (`mssante.directory.online` {baseUrl}, default the ANS API v2) with the API key stored encrypted as a
 * configuration secret, trusted through the public roots plus the Settings trust store.
 */
export const SETTING_DIRECTORY_ONLINE = 'mssante.directory.online';

interface SandboxDirectoryFhir {
  url?: string;
  apiKey?: string;
  caFiles?: string[];
}

function isSandbox(core: Core): boolean {
  return core.profiles.state(core.sandbox.isRunning()).active === 'sandbox';
}

function readPems(files: string[], what: string): string[] {
  return pemsOf(files, (f, err) => new AppError('DIRECTORY_FHIR_TLS', `${what} : fichier de certificat introuvable ou illisible (${f}). La recherche dans l’annuaire local reste disponible.`, `${f}: ${err.message}`));
}

export function onlineView(core: Core): DirectoryOnlineView {
  if (isSandbox(core)) {
    const s = (core.sandbox.status() as { directoryFhir?: SandboxDirectoryFhir }).directoryFhir;
    return { source: 'sandbox', baseUrl: s?.url ?? '', apiKeySet: !!s?.apiKey };
  }
  const st = core.settings.get<{ baseUrl?: string }>(SETTING_DIRECTORY_ONLINE);
  return { source: 'settings', baseUrl: st?.baseUrl ?? ANNUAIRE_FHIR_DEFAULT_BASE, apiKeySet: hasConfigSecret(core, 'annuaire-api-key') };
}

/** The client configuration of the active profile (the API key decrypted here, in main only). */
export function onlineConfig(core: Core): FhirDirectoryConfig {
  if (isSandbox(core)) {
    const p = core.sandbox.status() as { directoryFhir?: SandboxDirectoryFhir; mail?: { caFiles?: string[] } };
    const s = p.directoryFhir;
    if (!s?.url || !s.apiKey) {
      throw new AppError('DIRECTORY_FHIR_NOT_CONFIGURED', 'L’annuaire en ligne du bac à sable n’est pas démarré (lps sandbox up). La recherche dans l’annuaire local reste disponible.', 'sandbox profile has no directoryFhir section');
    }
    return { baseUrl: s.url, apiKey: s.apiKey, ca: readPems(s.caFiles ?? p.mail?.caFiles ?? [], 'Annuaire en ligne du bac à sable') };
  }
  const apiKey = readConfigSecret(core, 'annuaire-api-key');
  if (!apiKey) {
    throw new AppError('DIRECTORY_FHIR_NO_KEY', 'Aucune clé d’API de l’Annuaire Santé n’est configurée : saisissez-la dans Paramètres › Annuaire (clé obtenue sur portal.api.esante.gouv.fr). La recherche dans l’annuaire local reste disponible.', 'no annuaire-api-key secret');
  }
  // The ANS gateway presents a certificate from a public authority: the platform roots, plus the Settings
  // trust store (IGC Santé, a corporate proxy's CA).
  return { baseUrl: onlineView(core).baseUrl, apiKey, ca: [...tls.rootCertificates, ...readPems(settingsCaFiles(core), 'Magasin de confiance')] };
}

/** For tests and embedders: replaces how the online client is built (e.g. other limits). */
export type OnlineSearcher = (q: DirectoryQuery) => Promise<OnlineResult>;

export async function searchDirectoryWithOnline(core: Core, q: DirectoryQuery, online?: OnlineSearcher): Promise<DirectorySearchResult> {
  const t0 = performance.now();
  const local = searchDirectory(core.db, q);
  const entries: DirectoryEntry[] = local.entries.map((e) => ({ ...e, source: 'local' as const }));
  if (!q.online) return { ...local, entries };
  const seen = new Set(entries.map((e) => e.address.toLowerCase()));
  try {
    const r = await (online ?? ((qq: DirectoryQuery) => new FhirDirectoryClient(onlineConfig(core)).search(qq)))(q);
    let duplicates = 0;
    let added = 0;
    for (const e of r.entries) {
      const a = e.address.toLowerCase();
      if (seen.has(a)) {
        duplicates++;
        continue;
      }
      seen.add(a);
      entries.push({ ...e, address: a, source: 'annuaire-fhir' });
      added++;
    }
    return {
      total: local.total + added,
      entries,
      tookMs: Math.round((performance.now() - t0) * 100) / 100,
      online: { added, duplicates, more: r.more, tookMs: r.tookMs, requests: r.requests },
    };
  } catch (err) {
    const e =
      err instanceof AppError
        ? err
        : new AppError('DIRECTORY_FHIR_FAILED', 'La recherche dans l’Annuaire Santé en ligne a échoué. La recherche dans l’annuaire local reste disponible.', err instanceof Error ? err.message : String(err));
    core.audit.append({ actor: 'utilisateur', action: 'mssante.directory.online', subject: onlineView(core).baseUrl || 'annuaire en ligne', outcome: 'failure', details: { code: e.code, detail: e.detail ?? null } });
    return { ...local, entries, tookMs: Math.round((performance.now() - t0) * 100) / 100, warning: { code: e.code, message: e.userMessage } };
  }
}

export function setOnlineSettings(core: Core, input: { baseUrl?: string; apiKey?: string; clearApiKey?: boolean }): DirectoryOnlineView {
  const current = core.settings.get<{ baseUrl?: string }>(SETTING_DIRECTORY_ONLINE) ?? {};
  if (input.baseUrl !== undefined) {
    let u: URL;
    try {
      u = new URL(input.baseUrl.trim());
    } catch {
      throw new AppError('CONFIG_URL_INVALID', 'Adresse de l’Annuaire Santé en ligne : adresse invalide.', input.baseUrl.slice(0, 200));
    }
    if (u.protocol !== 'https:') throw new AppError('CONFIG_URL_NOT_HTTPS', 'Adresse de l’Annuaire Santé en ligne : l’adresse doit commencer par https:// (connexion chiffrée obligatoire).', u.origin);
    if (u.username || u.password || u.search || u.hash) throw new AppError('CONFIG_URL_INVALID', 'Adresse de l’Annuaire Santé en ligne : indiquez seulement l’adresse de base du service, sans identifiant ni paramètre.', 'credentials, query or fragment in URL');
    current.baseUrl = u.toString().replace(/\/+$/, '');
  }
  if (input.apiKey !== undefined) {
    const k = input.apiKey.trim();
    if (!/^[\x21-\x7e]{8,200}$/.test(k)) throw new AppError('CONFIG_API_KEY_INVALID', 'La clé d’API de l’Annuaire Santé doit comporter de 8 à 200 caractères imprimables, sans espace.', `length ${k.length}`);
    writeConfigSecret(core, 'annuaire-api-key', k);
  } else if (input.clearApiKey) {
    deleteConfigSecret(core, 'annuaire-api-key');
  }
  core.settings.set(SETTING_DIRECTORY_ONLINE, current);
  core.audit.append({ actor: 'utilisateur', action: 'config.directory.online.set', subject: current.baseUrl ?? ANNUAIRE_FHIR_DEFAULT_BASE, outcome: 'success', details: { apiKeyChanged: input.apiKey !== undefined || !!input.clearApiKey } });
  const view = onlineView(core);
  // The settings screen edits production; in the sandbox profile the view shows the sandbox server.
  return isSandbox(core) ? { source: 'settings', baseUrl: current.baseUrl ?? ANNUAIRE_FHIR_DEFAULT_BASE, apiKeySet: hasConfigSecret(core, 'annuaire-api-key') } : view;
}

export function registerDirectoryOnlineHandlers(core: Core): void {
  core.registry
    .register('mssante.directory.online.get', () => onlineView(core))
    .register('mssante.directory.online.set', (input) => setOnlineSettings(core, input));
}
