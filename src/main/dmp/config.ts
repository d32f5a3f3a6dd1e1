import crypto, { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { productionDmpCertificates, SETTING_DMP, SETTING_TRUST, type DmpSettings, type TrustSettings } from '../config/handlers';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { productInfo } from '../core/version';
import { oneLine, PROFESSION_LABELS, readP12 } from '../identity';
import { identitySession } from '../identity/session';
import { type DmpClientConfig, type JournalRecord, type SubmissionJournal } from './client';
import { dmpError } from './faults';
import { OID } from './protocol';
import { p12Signing, pemSigning } from './signing';

/**
 * Where the DMP client's configuration comes from:
 * - sandbox profile: `dmp` section written by the DMP sandbox service + `pki` written by the identity service;
 * - production: the Settings screen (endpoint, structure .p12 + password, trust store) and the signed-in
 *   practitioner's session; the production profile's `dmp` section only carries technical overrides.
 */

export const DmpProfileSection = z
  .object({
    url: z.string().url(),
    mode: z.enum(['DIRECTE', 'INDIRECTE', 'INDIRECTE_RENFORCEE']).default('INDIRECTE_RENFORCEE'),
    insOid: z.string().default(OID.insTestNir),
    sourceId: z.string(),
    sector: z.string().default('SA07'),
    practitioner: z.object({
      nameId: z.string(),
      name: z.string(),
      professionCode: z.string().default('10'),
      professionLabel: z.string().default('Médecin'),
      specialtyCode: z.string().optional(),
    }),
    lps: z.object({ id: z.string(), name: z.string(), version: z.string(), homologation: z.string() }),
    /** Used when no `pki` section exists (the DMP service then made its own test PKI). */
    adapterPki: z
      .object({ caCert: z.string(), authCert: z.string(), authKey: z.string(), signCert: z.string(), signKey: z.string(), structureId: z.string(), name: z.string() })
      .optional(),
    /** Trust store of the DMP server (PEM bundle); default: the sandbox CA. */
    caFile: z.string().optional(),
    /** Schemas checked before sending (optional: the shared ebRS/XDS.b folder). */
    schemaDir: z.string().optional(),
    connectTimeoutMs: z.number().int().positive().optional(),
    requestTimeoutMs: z.number().int().positive().optional(),
  })
  .loose();
export type DmpProfileSection = z.infer<typeof DmpProfileSection>;

const PkiSection = z
  .object({
    caCert: z.string(),
    caBundle: z.string().optional(),
    org: z.object({ authP12: z.string(), signP12: z.string(), p12Password: z.string(), structureId: z.string(), name: z.string() }).loose(),
  })
  .loose();

export function dmpLogDir(dataDir: string): string {
  return path.join(dataDir, 'logs', 'dmp');
}

export interface ResolvedDmpConfig {
  client: DmpClientConfig;
  insOid: string;
  actor: string;
  /** Name of the structure whose certificates are used (organization of the certificate / sandbox PKI). */
  structureName: string;
}

export function resolveDmpConfig(core: Core): ResolvedDmpConfig {
  const state = core.profiles.state(core.sandbox.isRunning());
  return state.active === 'production' ? resolveProduction(core) : resolveSandbox(core);
}

/** Sandbox profile: `dmp` section of the DMP sandbox service + `pki` of the identity service (or `dmp.adapterPki`). */
function resolveSandbox(core: Core): ResolvedDmpConfig {
  const profile = core.sandbox.status() as Record<string, unknown>;
  if (!profile['running']) throw dmpError('DMP_NOT_CONFIGURED', 'the sandbox is not running (lps sandbox up)');
  const section = profile['dmp'];
  const pki = profile['pki'];
  const parsed = DmpProfileSection.safeParse(section);
  if (!parsed.success) throw dmpError('DMP_NOT_CONFIGURED', `dmp section: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const d = parsed.data;
  const read = (f: string): string => fs.readFileSync(f, 'utf8');
  let tls: DmpClientConfig['tls'];
  let signing: DmpClientConfig['signing'];
  let structureId: string;
  let structureName: string;
  const p = PkiSection.safeParse(pki);
  if (p.success) {
    const auth = readP12(p.data.org.authP12, p.data.org.p12Password);
    tls = { cert: auth.chainPem.join('\n'), key: auth.privateKeyPem, ca: read(d.caFile ?? p.data.caBundle ?? p.data.caCert) };
    signing = p12Signing(p.data.org.signP12, p.data.org.p12Password);
    structureId = p.data.org.structureId;
    structureName = p.data.org.name;
  } else if (d.adapterPki) {
    const a = d.adapterPki;
    tls = { cert: read(a.authCert), key: read(a.authKey), ca: read(d.caFile ?? a.caCert) };
    signing = pemSigning({ keyPem: read(a.signKey), certPem: read(a.signCert) });
    structureId = a.structureId;
    structureName = a.name;
  } else {
    throw dmpError('DMP_NOT_CONFIGURED', 'no certificates: neither a pki section nor dmp.adapterPki');
  }
  const roles = [
    { code: d.practitioner.professionCode, codeSystem: OID.profession, displayName: d.practitioner.professionLabel },
    ...(d.practitioner.specialtyCode ? [{ code: d.practitioner.specialtyCode, codeSystem: OID.specialty }] : []),
  ];
  return {
    insOid: d.insOid,
    actor: d.practitioner.nameId,
    structureName,
    client: {
      baseUrl: d.url,
      tls,
      signing,
      vihf: { mode: d.mode, nameId: d.practitioner.nameId, subjectName: d.practitioner.name, roles, sector: d.sector, structureId, lps: d.lps },
      sourceId: d.sourceId,
      logDir: dmpLogDir(core.dataDir),
      ...(d.schemaDir && fs.existsSync(d.schemaDir) ? { schemaDir: d.schemaDir } : {}),
      ...(d.connectTimeoutMs ? { connectTimeoutMs: d.connectTimeoutMs } : {}),
      ...(d.requestTimeoutMs ? { requestTimeoutMs: d.requestTimeoutMs } : {}),
      journal: new DbJournal(core),
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Production: everything the user enters comes from the Settings screen, the user from the session.

/**
 * Technical parameters of the production profile's optional `dmp` section (written by an installer or support,
 * not by the user): e.g. the INS OID of the CNAM test platform (test NIR) during homologation, the homologation
 * number. The endpoint, the certificates, the trust store and the practitioner never come from here.
 */
export const ProductionDmpOverrides = z
  .object({
    insOid: z.string().regex(/^\d+(\.\d+)+$/).optional(),
    sourceId: z.string().regex(/^\d+(\.\d+)+$/).optional(),
    /** Sector of activity when the session's activity has none (card sessions). */
    sector: z.string().regex(/^SA\d\d$/).optional(),
    lps: z.object({ id: z.string(), name: z.string(), version: z.string(), homologation: z.string() }).partial().optional(),
    schemaDir: z.string().optional(),
    connectTimeoutMs: z.number().int().positive().optional(),
    requestTimeoutMs: z.number().int().positive().optional(),
  })
  .loose();

/**
 * The software as the VIHF names it (LPS_ID, LPS_Nom, LPS_Version, LPS_ID_HOMOLOGATION_DMP). The homologation
 * number is given by the CNAM when the software is homologated: **unconfirmed** placeholder until then,
 * overridable by the production profile (`dmp.lps.homologation`).
 */
export const PRODUCT_LPS_ID = 'LPS-COMPAGNON';
export const PRODUCT_DMP_HOMOLOGATION = 'NON-HOMOLOGUE';
/** Sector of activity when neither the session nor the production profile gives one (cabinet individuel). */
export const DEFAULT_SECTOR = 'SA07';
/** Settings key of this installation's OID (SubmissionSet.sourceId), generated once. */
export const SETTING_DMP_SOURCE_ID = 'dmp.sourceId';

const IN_SETTINGS = 'Paramètres › DMP';
const IN_TRUST = 'Paramètres › Magasin de confiance';

function configMissing(code: string, userMessage: string, detail: string): AppError {
  return new AppError(code, userMessage, detail);
}

/** This installation's OID: `2.25.<UUID as an integer>` (ITU-T X.667), created on first use and kept. */
export function installationOid(core: Pick<Core, 'settings'>): string {
  const existing = core.settings.get<string>(SETTING_DMP_SOURCE_ID);
  if (existing) return existing;
  const oid = `2.25.${BigInt(`0x${crypto.randomUUID().replace(/-/g, '')}`).toString(10)}`;
  core.settings.set(SETTING_DMP_SOURCE_ID, oid);
  return oid;
}

/** The trust store of the Settings screen as one PEM bundle (PEM or DER files) and its CRLs (PEM). */
export function productionTrust(core: Pick<Core, 'settings'>): { ca: string; crl: string[] } {
  const trust = core.settings.get<TrustSettings>(SETTING_TRUST, { caFiles: [], crlFiles: [] });
  if (!trust.caFiles.length) {
    throw configMissing(
      'DMP_TRUST_MISSING',
      `Aucun certificat d'autorité n'est configuré pour vérifier le serveur du DMP : dans ${IN_TRUST}, ajoutez les certificats de l'IGC Santé (autorité racine et autorités intermédiaires).`,
      'production: config.trust.caFiles is empty',
    );
  }
  const pems: string[] = [];
  for (const f of trust.caFiles) {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(f);
    } catch (err) {
      throw configMissing('DMP_TRUST_INVALID', `Un certificat d'autorité du magasin de confiance est introuvable ou illisible (${f}) : corrigez la liste dans ${IN_TRUST}.`, `${f}: ${(err as Error).message}`);
    }
    const blocks = buf.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    try {
      if (blocks?.length) pems.push(...blocks.map((b) => new X509Certificate(b).toString()));
      else pems.push(new X509Certificate(buf).toString()); // DER
    } catch (err) {
      throw configMissing('DMP_TRUST_INVALID', `Ce fichier du magasin de confiance ne contient pas de certificat lisible (${f}) : corrigez la liste dans ${IN_TRUST}.`, `${f}: ${(err as Error).message}`);
    }
  }
  const crl: string[] = [];
  for (const f of trust.crlFiles) {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(f);
    } catch (err) {
      throw configMissing('DMP_TRUST_INVALID', `Une liste de révocation (CRL) du magasin de confiance est introuvable ou illisible (${f}) : corrigez la liste dans ${IN_TRUST}.`, `${f}: ${(err as Error).message}`);
    }
    const blocks = buf.toString('latin1').match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g);
    crl.push(...(blocks ?? [`-----BEGIN X509 CRL-----\n${buf.toString('base64').replace(/(.{64})/g, '$1\n').trim()}\n-----END X509 CRL-----\n`]));
  }
  return { ca: pems.join('\n'), crl };
}

/** One structure certificate of the Settings (.p12), checked: readable, right password, valid now. */
function structureCertificate(file: string, password: string, what: "d'authentification" | 'de signature'): { key: string; chain: string[]; cert: X509Certificate } {
  if (!fs.existsSync(file)) {
    throw configMissing('DMP_SETTINGS_INVALID', `Le certificat ${what} de la structure est introuvable (${file}) : choisissez à nouveau le fichier .p12 dans ${IN_SETTINGS}.`, `${file}: no such file`);
  }
  let m: ReturnType<typeof readP12>;
  try {
    m = readP12(file, password);
  } catch (err) {
    const e = err as AppError;
    const why = e.code === 'P12_BAD_PASSWORD' ? 'son mot de passe enregistré est incorrect' : 'le fichier est illisible ou n’est pas au format PKCS#12';
    throw configMissing('DMP_SETTINGS_INVALID', `Le certificat ${what} de la structure ne peut pas être ouvert (${why}) : vérifiez le fichier et le mot de passe dans ${IN_SETTINGS}.`, `${file}: ${e.detail ?? e.message}`);
  }
  const cert = new X509Certificate(m.chainPem[0]!);
  const now = Date.now();
  if (new Date(cert.validTo).getTime() < now || new Date(cert.validFrom).getTime() > now) {
    throw configMissing(
      'DMP_SETTINGS_INVALID',
      `Le certificat ${what} de la structure n'est pas valide aujourd'hui (valable du ${new Date(cert.validFrom).toLocaleDateString('fr-FR')} au ${new Date(cert.validTo).toLocaleDateString('fr-FR')}) : installez un certificat en cours de validité dans ${IN_SETTINGS}.`,
      `${file}: ${oneLine(cert.subject)} valid ${cert.validFrom} – ${cert.validTo}`,
    );
  }
  return { key: m.privateKeyPem, chain: m.chainPem, cert };
}

const rdnValues = (c: X509Certificate, attr: string): string[] =>
  c.subject.split('\n').filter((r) => r.startsWith(`${attr}=`)).map((r) => r.slice(attr.length + 1));
/** Whether a structure id appears in a certificate subject (as a whole RDN value or a `/`- or space-separated part). */
const subjectNames = (c: X509Certificate, id: string): boolean =>
  c.subject.split('\n').some((r) => {
    const v = r.slice(r.indexOf('=') + 1);
    return v === id || v.split(/[\s/]/).includes(id);
  });

/**
 * Production: endpoint and structure certificates (+ password, decrypted in main) from the Settings screen,
 * trust store from the Settings (verification always on), practitioner of the VIHF from the signed-in session
 * (CPS card or Pro Santé Connect) in "indirecte renforcée" mode. Each missing piece is a French message that
 * says where to fix it.
 */
function resolveProduction(core: Core): ResolvedDmpConfig {
  const certs = productionDmpCertificates(core);
  if (!certs) {
    const dmp = core.settings.get<DmpSettings>(SETTING_DMP);
    throw dmp
      ? configMissing('DMP_SETTINGS_MISSING', `Le mot de passe des certificats de la structure n'est pas enregistré : saisissez-le dans ${IN_SETTINGS}.`, 'production: dmp-p12-password secret is not set')
      : configMissing(
          'DMP_SETTINGS_MISSING',
          `L'accès au DMP n'est pas configuré : dans ${IN_SETTINGS}, renseignez l'adresse du service DMP, les certificats de la structure (authentification et signature, fichiers .p12) et leur mot de passe.`,
          'production: config.dmp is not set',
        );
  }
  const over = ProductionDmpOverrides.safeParse((core.profiles.getProduction() as Record<string, unknown> | undefined)?.['dmp'] ?? {});
  if (!over.success) {
    throw configMissing('DMP_SETTINGS_INVALID', "La configuration technique du DMP du profil de production est invalide : contactez le support.", `production profile dmp: ${over.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const o = over.data;

  // Who: the practitioner of the session (before reading any key: nothing is opened for nobody).
  const session = identitySession(core).get();
  if (session.status === 'locked') throw new AppError('SESSION_LOCKED', 'Session verrouillée : la carte CPS a été retirée. Réinsérez-la et saisissez votre code PIN.', 'dmp: session locked');
  const who = session.status === 'signed-in' ? session.practitioner : undefined;
  if (!who) {
    throw new AppError('DMP_NOT_SIGNED_IN', "Connectez-vous avec votre carte CPS ou Pro Santé Connect : le DMP exige l'identité du professionnel de santé qui agit.", `production: session ${session.status}`);
  }

  const auth = structureCertificate(certs.authP12, certs.password, "d'authentification");
  const sign = structureCertificate(certs.signP12, certs.password, 'de signature');
  const structureId = rdnValues(auth.cert, 'OU')[0];
  if (!structureId) {
    throw configMissing('DMP_SETTINGS_INVALID', `Le certificat d'authentification choisi n'est pas un certificat de structure (ORG) de l'IGC Santé : aucun identifiant de structure. Choisissez le bon fichier dans ${IN_SETTINGS}.`, `no OU in ${oneLine(auth.cert.subject)}`);
  }
  if (!subjectNames(sign.cert, structureId)) {
    throw configMissing(
      'DMP_SETTINGS_INVALID',
      `Les certificats d'authentification et de signature ne sont pas ceux de la même structure : choisissez la paire délivrée pour votre structure dans ${IN_SETTINGS}.`,
      `auth ${oneLine(auth.cert.subject)} / sign ${oneLine(sign.cert.subject)}`,
    );
  }
  const structureName = rdnValues(auth.cert, 'O')[0] ?? structureId;

  // The activity the practitioner works in must be the certificates' structure (indirect mode: the structure is the author).
  const chosen = session.activities.find((a) => a.id === session.activityId);
  if (chosen?.structureId && !subjectNames(auth.cert, chosen.structureId)) {
    throw new AppError(
      'DMP_STRUCTURE_MISMATCH',
      `L'activité choisie (${chosen.structureName ?? chosen.structureId}) n'est pas la structure des certificats configurés pour le DMP (${structureName}) : choisissez l'activité de cette structure, ou installez ses certificats dans ${IN_SETTINGS}.`,
      `activity structure ${chosen.structureId} not in ${oneLine(auth.cert.subject)}`,
    );
  }
  const activity = chosen ?? session.activities.find((a) => a.structureId && subjectNames(auth.cert, a.structureId)) ?? (session.activities.length === 1 ? session.activities[0] : undefined);

  const professionCode = who.professionCode ?? activity?.professionCode;
  if (!professionCode) {
    throw new AppError('DMP_NO_PROFESSION', "La profession du professionnel connecté est inconnue : le DMP l'exige. Reconnectez-vous avec votre carte CPS ou Pro Santé Connect.", 'session practitioner without profession code');
  }
  const trust = productionTrust(core);
  const info = productInfo();
  const lps = { id: o.lps?.id ?? PRODUCT_LPS_ID, name: o.lps?.name ?? info.name, version: o.lps?.version ?? info.version, homologation: o.lps?.homologation ?? PRODUCT_DMP_HOMOLOGATION };
  const roles = [{ code: professionCode, codeSystem: OID.profession, ...(PROFESSION_LABELS[professionCode] ? { displayName: PROFESSION_LABELS[professionCode] } : {}) }];
  const subjectName = [who.firstName, who.lastName].filter(Boolean).join(' ') || who.nationalId;
  return {
    insOid: o.insOid ?? OID.insNir,
    actor: who.nationalId,
    structureName,
    client: {
      baseUrl: certs.url,
      tls: { cert: auth.chain.join('\n'), key: auth.key, ca: trust.ca, ...(trust.crl.length ? { options: { crl: trust.crl } } : {}) },
      signing: pemSigning({ keyPem: sign.key, certPem: sign.chain[0]! }),
      vihf: { mode: 'INDIRECTE_RENFORCEE', nameId: who.nationalId, subjectName, roles, sector: activity?.sectorCode ?? o.sector ?? DEFAULT_SECTOR, structureId, lps },
      sourceId: o.sourceId ?? installationOid(core),
      logDir: dmpLogDir(core.dataDir),
      ...(o.schemaDir && fs.existsSync(o.schemaDir) ? { schemaDir: o.schemaDir } : {}),
      ...(o.connectTimeoutMs ? { connectTimeoutMs: o.connectTimeoutMs } : {}),
      ...(o.requestTimeoutMs ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
      journal: new DbJournal(core),
    },
  };
}

/** The submission journal in the app's SQLite store. */
export class DbJournal implements SubmissionJournal {
  constructor(private readonly core: Pick<Core, 'db'>) {}

  get(uniqueId: string): JournalRecord | undefined {
    const r = this.core.db.prepare('SELECT unique_id, ins, state, set_unique_id, detail FROM dmp_submissions WHERE unique_id = ?').get(uniqueId) as
      | { unique_id: string; ins: string; state: JournalRecord['state']; set_unique_id: string | null; detail: string | null }
      | undefined;
    if (!r) return undefined;
    return { uniqueId: r.unique_id, ins: r.ins, state: r.state, ...(r.set_unique_id ? { setUniqueId: r.set_unique_id } : {}), ...(r.detail ? { detail: r.detail } : {}) };
  }

  put(rec: JournalRecord): void {
    this.core.db
      .prepare(
        `INSERT INTO dmp_submissions (unique_id, ins, state, set_unique_id, detail, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(unique_id) DO UPDATE SET state = excluded.state, set_unique_id = COALESCE(excluded.set_unique_id, dmp_submissions.set_unique_id),
           detail = excluded.detail, updated_at = excluded.updated_at`,
      )
      .run(rec.uniqueId, rec.ins, rec.state, rec.setUniqueId ?? null, rec.detail?.slice(0, 500) ?? null, new Date().toISOString());
  }
}
