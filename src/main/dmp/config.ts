import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Core } from '../core/app-core';
import { readP12 } from '../identity';
import { type DmpClientConfig, type JournalRecord, type SubmissionJournal } from './client';
import { dmpError } from './faults';
import { OID } from './protocol';
import { p12Signing, pemSigning } from './signing';

/**
 * Where the DMP client's configuration comes from: the sandbox profile (`dmp` section written by the DMP
 * sandbox service + `pki` written by the identity service) or the production configuration (`dmp` section).
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
}

export function resolveDmpConfig(core: Core): ResolvedDmpConfig {
  const state = core.profiles.state(core.sandbox.isRunning());
  let section: unknown;
  let pki: unknown;
  if (state.active === 'production') {
    const prod = core.profiles.getProduction() as Record<string, unknown> | undefined;
    section = prod?.['dmp'];
    pki = prod?.['pki'];
  } else {
    const profile = core.sandbox.status() as Record<string, unknown>;
    if (!profile['running']) throw dmpError('DMP_NOT_CONFIGURED', 'the sandbox is not running (lps sandbox up)');
    section = profile['dmp'];
    pki = profile['pki'];
  }
  const parsed = DmpProfileSection.safeParse(section);
  if (!parsed.success) throw dmpError('DMP_NOT_CONFIGURED', `dmp section: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const d = parsed.data;
  const read = (f: string): string => fs.readFileSync(f, 'utf8');
  let tls: DmpClientConfig['tls'];
  let signing: DmpClientConfig['signing'];
  let structureId: string;
  const p = PkiSection.safeParse(pki);
  if (p.success) {
    const auth = readP12(p.data.org.authP12, p.data.org.p12Password);
    tls = { cert: auth.chainPem.join('\n'), key: auth.privateKeyPem, ca: read(d.caFile ?? p.data.caBundle ?? p.data.caCert) };
    signing = p12Signing(p.data.org.signP12, p.data.org.p12Password);
    structureId = p.data.org.structureId;
  } else if (d.adapterPki) {
    const a = d.adapterPki;
    tls = { cert: read(a.authCert), key: read(a.authKey), ca: read(d.caFile ?? a.caCert) };
    signing = pemSigning({ keyPem: read(a.signKey), certPem: read(a.signCert) });
    structureId = a.structureId;
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
