import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { ConfigView } from '../../shared/api/config';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { DEFAULT_NIL } from '../core/handlers';
import { resolvePkcs11Module, SETTING_PKCS11_MODULE } from '../identity/card/pkcs11-module';
import { identityRuntime, SETTING_PSC, type PscSettings } from '../identity/runtime';
import { readP12 } from '../identity/signing/signer';
import { hasConfigSecret, readConfigSecret, writeConfigSecret } from './secrets';

/** Settings keys written by the settings screen (non-secret parts only). */
export const SETTING_DMP = 'config.dmp';
export const SETTING_TRUST = 'config.trust';
export const SETTING_NIL = 'mssante.nil';

export interface DmpSettings {
  url: string;
  authP12: string;
  signP12: string;
}
export interface TrustSettings {
  caFiles: string[];
  crlFiles: string[];
}

const MAX_FILE = 10 * 1024 * 1024;

/** An absolute path to an existing, readable regular file of reasonable size. */
export function checkFile(p: string, what: string): string {
  if (!path.isAbsolute(p)) throw new AppError('CONFIG_PATH_RELATIVE', `${what} : indiquez un chemin complet (absolu).`, p);
  let st: fs.Stats;
  try {
    st = fs.statSync(p);
  } catch {
    throw new AppError('CONFIG_FILE_MISSING', `${what} : fichier introuvable (${p}).`, p);
  }
  if (!st.isFile()) throw new AppError('CONFIG_NOT_A_FILE', `${what} : ce chemin n'est pas un fichier (${p}).`, p);
  if (st.size > MAX_FILE) throw new AppError('CONFIG_FILE_TOO_LARGE', `${what} : fichier trop volumineux.`, `${p}: ${st.size} bytes`);
  try {
    fs.accessSync(p, fs.constants.R_OK);
  } catch {
    throw new AppError('CONFIG_FILE_UNREADABLE', `${what} : fichier illisible (droits d'accès).`, p);
  }
  return p;
}

function summary(pem: string): ConfigView['dmp']['auth'] {
  const c = new X509Certificate(pem);
  const ou = /(?:^|\n)OU=([^\n]+)/.exec(c.subject)?.[1];
  return {
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    notAfter: new Date(c.validTo).toISOString(),
    expired: new Date(c.validTo).getTime() < Date.now(),
    ...(ou ? { structureId: ou } : {}),
  };
}

/** The structure certificates of the production configuration, with the decrypted password (main only). */
export function productionDmpCertificates(core: Core): (DmpSettings & { password: string }) | undefined {
  const d = core.settings.get<DmpSettings>(SETTING_DMP);
  const password = readConfigSecret(core, 'dmp-p12-password');
  return d && password ? { ...d, password } : undefined;
}

export function configView(core: Core): ConfigView {
  const sandbox = (core.sandbox.isRunning() ? core.sandbox.status() : undefined) as
    | { running?: boolean; dmp?: { url?: string }; pki?: { caCert?: string }; card?: { module?: string }; psc?: { issuer?: string } }
    | undefined;
  const sandboxActive = core.profiles.state(core.sandbox.isRunning()).active === 'sandbox' && !!sandbox?.running;
  const moduleSetting = core.settings.get<string>(SETTING_PKCS11_MODULE);
  let pkcs11: ConfigView['pkcs11'];
  if (sandboxActive && sandbox?.card?.module) {
    pkcs11 = { ...(moduleSetting ? { module: moduleSetting } : {}), effective: sandbox.card.module, source: 'sandbox' };
  } else {
    try {
      pkcs11 = { ...(moduleSetting ? { module: moduleSetting } : {}), effective: resolvePkcs11Module(moduleSetting), source: moduleSetting ? 'setting' : 'default' };
    } catch (err) {
      pkcs11 = { ...(moduleSetting ? { module: moduleSetting } : {}), source: 'missing', problem: err instanceof AppError ? err.userMessage : String(err) };
    }
  }
  const dmp = core.settings.get<DmpSettings>(SETTING_DMP);
  const password = readConfigSecret(core, 'dmp-p12-password');
  const cert = (file: string | undefined) => {
    if (!file || !password) return undefined;
    try {
      return summary(readP12(file, password).chainPem[0]!);
    } catch {
      return undefined;
    }
  };
  const psc = core.settings.get<PscSettings>(SETTING_PSC);
  const trust = core.settings.get<TrustSettings>(SETTING_TRUST, { caFiles: [], crlFiles: [] });
  const authSummary = cert(dmp?.authP12);
  const signSummary = cert(dmp?.signP12);
  return {
    pkcs11,
    dmp: {
      ...(dmp ? { url: dmp.url, authP12: dmp.authP12, signP12: dmp.signP12 } : {}),
      passwordSet: !!password,
      ...(authSummary ? { auth: authSummary } : {}),
      ...(signSummary ? { sign: signSummary } : {}),
    },
    trust,
    psc: { ...(psc ? { issuer: psc.issuer, clientId: psc.clientId } : {}), secretSet: hasConfigSecret(core, 'psc-client-secret') },
    nil: core.settings.get<string>(SETTING_NIL, DEFAULT_NIL),
    sandbox: {
      running: !!sandbox?.running,
      ...(sandbox?.dmp?.url ? { dmpUrl: sandbox.dmp.url } : {}),
      ...(sandbox?.pki?.caCert ? { caCert: sandbox.pki.caCert } : {}),
      ...(sandbox?.card?.module ? { pkcs11Module: sandbox.card.module } : {}),
      ...(sandbox?.psc?.issuer ? { pscIssuer: sandbox.psc.issuer } : {}),
    },
  };
}

function httpsUrl(raw: string, what: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new AppError('CONFIG_URL_INVALID', `${what} : adresse invalide.`, raw.slice(0, 200));
  }
  if (u.protocol !== 'https:') throw new AppError('CONFIG_URL_NOT_HTTPS', `${what} : l'adresse doit commencer par https:// (connexion chiffrée obligatoire).`, raw.slice(0, 200));
  if (u.username || u.password) throw new AppError('CONFIG_URL_INVALID', `${what} : l'adresse ne doit pas contenir d'identifiant ni de mot de passe.`, 'credentials in URL');
  return u.toString();
}

function checkCaFile(f: string): void {
  checkFile(f, "Certificat d'autorité");
  const text = fs.readFileSync(f, 'latin1');
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const certs: X509Certificate[] = [];
  try {
    if (blocks.length === 0) certs.push(new X509Certificate(fs.readFileSync(f))); // DER
    else for (const b of blocks) certs.push(new X509Certificate(b));
  } catch (err) {
    throw new AppError('CONFIG_CA_INVALID', `Ce fichier ne contient pas de certificat lisible (PEM ou DER) : ${f}`, (err as Error).message);
  }
  if (!certs.some((c) => c.ca)) throw new AppError('CONFIG_CA_NOT_CA', `Ce fichier ne contient pas de certificat d'autorité (CA) : ${f}`, certs.map((c) => c.subject.replace(/\n/g, ', ')).join(' | '));
}

function checkCrlFile(f: string): void {
  checkFile(f, 'Liste de révocation');
  const buf = fs.readFileSync(f);
  const pem = /-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/.test(buf.toString('latin1'));
  // DER: an ASN.1 SEQUENCE (0x30) whose length covers the file.
  const der = buf[0] === 0x30 && buf.length > 16;
  if (!pem && !der) throw new AppError('CONFIG_CRL_INVALID', `Ce fichier n'est pas une liste de révocation (CRL) : ${f}`, 'neither PEM X509 CRL nor DER');
}

export function registerConfigHandlers(core: Core): void {
  const audit = (action: string, subject?: string) => core.audit.append({ actor: 'utilisateur', action, ...(subject ? { subject } : {}), outcome: 'success', details: {} });
  core.registry
    .register('config.get', () => configView(core))
    .register('config.pkcs11.set', ({ module }) => {
      if (module === null) {
        core.settings.delete(SETTING_PKCS11_MODULE);
      } else {
        checkFile(module, 'Bibliothèque PKCS#11');
        if (!/\.(so(\.\d+)*|dll|dylib)$/i.test(module) && !/\.framework\//.test(module)) {
          throw new AppError('CONFIG_PKCS11_NOT_LIBRARY', 'La bibliothèque PKCS#11 doit être un fichier .so (Linux), .dll (Windows) ou .dylib (macOS).', module);
        }
        core.settings.set(SETTING_PKCS11_MODULE, module);
      }
      identityRuntime(core).resetCard();
      audit('config.pkcs11.set', module ?? '(défaut)');
      return configView(core);
    })
    .register('config.dmp.set', ({ url, authP12, signP12, password }) => {
      const u = httpsUrl(url, 'Adresse du DMP');
      checkFile(authP12, "Certificat d'authentification de la structure (.p12)");
      checkFile(signP12, 'Certificat de signature de la structure (.p12)');
      const pw = password ?? readConfigSecret(core, 'dmp-p12-password');
      if (!pw) throw new AppError('CONFIG_P12_PASSWORD_REQUIRED', 'Saisissez le mot de passe des certificats de la structure.', 'no stored password');
      const auth = readP12(authP12, pw); // P12_BAD_PASSWORD / P12_INVALID with a French message
      const sign = readP12(signP12, pw);
      for (const [m, what] of [[auth, "d'authentification"], [sign, 'de signature']] as const) {
        const s = summary(m.chainPem[0]!)!;
        if (s.expired) throw new AppError('CONFIG_CERT_EXPIRED', `Le certificat ${what} de la structure a expiré le ${new Date(s.notAfter).toLocaleDateString('fr-FR')}.`, s.subject);
      }
      core.settings.set(SETTING_DMP, { url: u, authP12, signP12 } satisfies DmpSettings);
      if (password) writeConfigSecret(core, 'dmp-p12-password', password);
      audit('config.dmp.set', u);
      return configView(core);
    })
    .register('config.trust.set', ({ caFiles, crlFiles }) => {
      caFiles.forEach(checkCaFile);
      crlFiles.forEach(checkCrlFile);
      core.settings.set(SETTING_TRUST, { caFiles, crlFiles } satisfies TrustSettings);
      audit('config.trust.set', `${caFiles.length} CA, ${crlFiles.length} CRL`);
      return configView(core);
    })
    .register('config.psc.set', ({ issuer, clientId, clientSecret }) => {
      const iss = httpsUrl(issuer, 'Adresse de Pro Santé Connect').replace(/\/$/, '');
      if (!/^[A-Za-z0-9._:-]+$/.test(clientId)) throw new AppError('CONFIG_PSC_CLIENT_ID', "L'identifiant client Pro Santé Connect contient des caractères non autorisés.", clientId.slice(0, 100));
      core.settings.set(SETTING_PSC, { issuer: iss, clientId } satisfies PscSettings);
      if (clientSecret) writeConfigSecret(core, 'psc-client-secret', clientSecret);
      identityRuntime(core).resetPsc();
      audit('config.psc.set', iss);
      return configView(core);
    })
    .register('config.nil.set', ({ nil }) => {
      const v = nil.trim();
      if (!/^[\x21-\x7e]{1,64}$/.test(v)) {
        throw new AppError('CONFIG_NIL_INVALID', "L'identifiant logiciel (X-MSS-NIL) doit comporter de 1 à 64 caractères imprimables, sans espace ni accent.", `length ${v.length}`);
      }
      core.settings.set(SETTING_NIL, v);
      audit('config.nil.set', v);
      return configView(core);
    });
}
