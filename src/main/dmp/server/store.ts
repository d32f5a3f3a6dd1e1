import Database from 'better-sqlite3';
import type { Association, DocumentEntry, SubmissionSet } from '../ebrim';
import { STATUS } from '../protocol';
import type { Authorization, DmpStatus } from '../wire-profile';

/** SQLite storage of the DMP test server: patients/DMP state, authorizations, registry and repository. */

export interface PatientRow {
  ins: string;
  insOid: string;
  family: string;
  given: string;
  birthDate: string;
  gender: string;
  dmp: DmpStatus;
  closureDate?: string;
  closureReason?: string;
  webAccess: boolean;
  treatingPhysicians: string[];
}

export interface StoredEntry {
  entryUuid: string;
  uniqueId: string;
  logicalId: string;
  version: number;
  ins: string;
  status: string;
  isSignature: boolean;
  submitter: string;
  submitterStructure: string;
  everVisibleToPatient: boolean;
  entry: DocumentEntry;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS patients (
  ins TEXT PRIMARY KEY, ins_oid TEXT NOT NULL, family TEXT NOT NULL, given TEXT NOT NULL, birth_date TEXT NOT NULL,
  gender TEXT NOT NULL, dmp TEXT NOT NULL CHECK (dmp IN ('ACTIF','FERME','INEXISTANT')), closure_date TEXT,
  closure_reason TEXT, web_access INTEGER NOT NULL DEFAULT 1, treating TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS authorizations (
  ins TEXT NOT NULL, ps TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('VALIDE','INTERDIT')), expires_at TEXT,
  updated_at TEXT NOT NULL, PRIMARY KEY (ins, ps)
);
CREATE TABLE IF NOT EXISTS entries (
  entry_uuid TEXT PRIMARY KEY, unique_id TEXT NOT NULL, logical_id TEXT NOT NULL, version INTEGER NOT NULL,
  ins TEXT NOT NULL, status TEXT NOT NULL, is_signature INTEGER NOT NULL, submitter TEXT NOT NULL,
  submitter_structure TEXT NOT NULL, ever_visible_patient INTEGER NOT NULL, entry TEXT NOT NULL, created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_ins ON entries (ins, status);
CREATE INDEX IF NOT EXISTS entries_uid ON entries (unique_id);
CREATE TABLE IF NOT EXISTS documents (
  unique_id TEXT PRIMARY KEY, mime_type TEXT NOT NULL, data BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS submission_sets (
  entry_uuid TEXT PRIMARY KEY, unique_id TEXT NOT NULL UNIQUE, ins TEXT NOT NULL, data TEXT NOT NULL, submitted_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS associations (
  id TEXT PRIMARY KEY, type TEXT NOT NULL, source TEXT NOT NULL, target TEXT NOT NULL, data TEXT NOT NULL
);
`;

export class DmpStore {
  readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  upsertPatient(p: PatientRow): void {
    this.db
      .prepare(
        `INSERT INTO patients (ins, ins_oid, family, given, birth_date, gender, dmp, closure_date, closure_reason, web_access, treating)
         VALUES (@ins, @insOid, @family, @given, @birthDate, @gender, @dmp, @closureDate, @closureReason, @webAccess, @treating)
         ON CONFLICT(ins) DO UPDATE SET ins_oid=excluded.ins_oid, family=excluded.family, given=excluded.given,
           birth_date=excluded.birth_date, gender=excluded.gender, dmp=excluded.dmp, closure_date=excluded.closure_date,
           closure_reason=excluded.closure_reason, web_access=excluded.web_access, treating=excluded.treating`,
      )
      .run({ ...p, closureDate: p.closureDate ?? null, closureReason: p.closureReason ?? null, webAccess: p.webAccess ? 1 : 0, treating: JSON.stringify(p.treatingPhysicians) });
  }

  patient(ins: string): PatientRow | undefined {
    const r = this.db.prepare('SELECT * FROM patients WHERE ins = ?').get(ins) as Record<string, unknown> | undefined;
    if (!r) return undefined;
    return {
      ins: String(r['ins']),
      insOid: String(r['ins_oid']),
      family: String(r['family']),
      given: String(r['given']),
      birthDate: String(r['birth_date']),
      gender: String(r['gender']),
      dmp: r['dmp'] as DmpStatus,
      closureDate: (r['closure_date'] as string | null) ?? undefined,
      closureReason: (r['closure_reason'] as string | null) ?? undefined,
      webAccess: r['web_access'] === 1,
      treatingPhysicians: JSON.parse(String(r['treating'])) as string[],
    };
  }

  patients(): PatientRow[] {
    return (this.db.prepare('SELECT ins FROM patients ORDER BY ins').all() as { ins: string }[]).map((r) => this.patient(r.ins)!);
  }

  authorization(ins: string, ps: string, now = new Date()): { state: Authorization; expiresAt?: string } {
    const r = this.db.prepare('SELECT state, expires_at FROM authorizations WHERE ins = ? AND ps = ?').get(ins, ps) as
      | { state: 'VALIDE' | 'INTERDIT'; expires_at: string | null }
      | undefined;
    if (!r) return { state: 'NON_EXISTE' };
    if (r.state === 'INTERDIT') return { state: 'INTERDIT' };
    if (r.expires_at && new Date(r.expires_at) <= now) return { state: 'EXPIRE', expiresAt: r.expires_at };
    return { state: 'VALIDE', ...(r.expires_at ? { expiresAt: r.expires_at } : {}) };
  }

  setAuthorization(ins: string, ps: string, state: 'VALIDE' | 'INTERDIT' | null, expiresAt?: string): void {
    if (state === null) {
      this.db.prepare('DELETE FROM authorizations WHERE ins = ? AND ps = ?').run(ins, ps);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO authorizations (ins, ps, state, expires_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(ins, ps) DO UPDATE SET state=excluded.state, expires_at=excluded.expires_at, updated_at=excluded.updated_at`,
      )
      .run(ins, ps, state, expiresAt ?? null, new Date().toISOString());
  }

  insertEntry(e: StoredEntry): void {
    this.db
      .prepare(
        `INSERT INTO entries (entry_uuid, unique_id, logical_id, version, ins, status, is_signature, submitter, submitter_structure, ever_visible_patient, entry, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(e.entryUuid, e.uniqueId, e.logicalId, e.version, e.ins, e.status, e.isSignature ? 1 : 0, e.submitter, e.submitterStructure, e.everVisibleToPatient ? 1 : 0, JSON.stringify(e.entry), new Date().toISOString());
  }

  setStatus(entryUuid: string, status: string): void {
    this.db.prepare('UPDATE entries SET status = ? WHERE entry_uuid = ?').run(status, entryUuid);
  }

  private rowToEntry(r: Record<string, unknown>): StoredEntry {
    const entry = JSON.parse(String(r['entry'])) as DocumentEntry;
    const status = String(r['status']);
    return {
      entryUuid: String(r['entry_uuid']),
      uniqueId: String(r['unique_id']),
      logicalId: String(r['logical_id']),
      version: Number(r['version']),
      ins: String(r['ins']),
      status,
      isSignature: r['is_signature'] === 1,
      submitter: String(r['submitter']),
      submitterStructure: String(r['submitter_structure']),
      everVisibleToPatient: r['ever_visible_patient'] === 1,
      entry: { ...entry, status, entryUuid: String(r['entry_uuid']), logicalId: String(r['logical_id']), version: String(r['version']) },
    };
  }

  entry(entryUuid: string): StoredEntry | undefined {
    const r = this.db.prepare('SELECT * FROM entries WHERE entry_uuid = ?').get(entryUuid) as Record<string, unknown> | undefined;
    return r ? this.rowToEntry(r) : undefined;
  }

  /** Entries of a patient (every version), oldest first. */
  entriesOf(ins: string): StoredEntry[] {
    return (this.db.prepare('SELECT * FROM entries WHERE ins = ? ORDER BY created_at, rowid').all(ins) as Record<string, unknown>[]).map((r) => this.rowToEntry(r));
  }

  entriesByUniqueId(uniqueId: string): StoredEntry[] {
    return (this.db.prepare('SELECT * FROM entries WHERE unique_id = ? ORDER BY version').all(uniqueId) as Record<string, unknown>[]).map((r) => this.rowToEntry(r));
  }

  /** The current (non-superseded) version of a document, any status. */
  currentByUniqueId(uniqueId: string): StoredEntry | undefined {
    const all = this.entriesByUniqueId(uniqueId);
    return all[all.length - 1];
  }

  putDocument(uniqueId: string, mimeType: string, data: Buffer): void {
    this.db.prepare('INSERT INTO documents (unique_id, mime_type, data) VALUES (?, ?, ?)').run(uniqueId, mimeType, data);
  }

  document(uniqueId: string): { mimeType: string; data: Buffer } | undefined {
    const r = this.db.prepare('SELECT mime_type, data FROM documents WHERE unique_id = ?').get(uniqueId) as { mime_type: string; data: Buffer } | undefined;
    return r ? { mimeType: r.mime_type, data: r.data } : undefined;
  }

  hasSubmissionSet(uniqueId: string): boolean {
    return !!this.db.prepare('SELECT 1 FROM submission_sets WHERE unique_id = ?').get(uniqueId);
  }

  insertSubmissionSet(ss: SubmissionSet, ins: string): void {
    this.db.prepare('INSERT INTO submission_sets (entry_uuid, unique_id, ins, data, submitted_at) VALUES (?, ?, ?, ?, ?)').run(ss.entryUuid, ss.uniqueId, ins, JSON.stringify(ss), new Date().toISOString());
  }

  insertAssociation(a: Association): void {
    this.db.prepare('INSERT INTO associations (id, type, source, target, data) VALUES (?, ?, ?, ?, ?)').run(a.id, a.type, a.source, a.target, JSON.stringify(a));
  }

  associationsTo(target: string): Association[] {
    return (this.db.prepare('SELECT data FROM associations WHERE target = ?').all(target) as { data: string }[]).map((r) => JSON.parse(r.data) as Association);
  }
}

export const APPROVED = STATUS.approved;
