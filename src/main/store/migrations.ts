import { sharingMigrations } from '../sharing/share-jobs';
import { blobMigrations } from './secure-blobs';
import { mssanteMigrations } from '../mssante/migrations';
import { patientsMigrations } from '../patients/migrations';
import { dmpMigrations } from '../dmp/migrations';
/**
 * Versioned migrations. Each capability owns its list (ids are `<domain>/<NNN>-<name>`) and adds it to
 * `ALL_MIGRATIONS` below; a migration runs once, in this order, inside a transaction, and is recorded in
 * `schema_migrations`. Never edit a migration that has shipped: add a new one.
 */
export interface Migration {
  id: string;
  sql: string;
}

export const foundationMigrations: Migration[] = [
  {
    id: 'foundation/001-settings-profiles',
    sql: `
      CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      CREATE TABLE profiles (
        name TEXT PRIMARY KEY CHECK (name IN ('sandbox', 'production')),
        config TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    id: 'foundation/002-audit',
    sql: `
      CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        subject TEXT,
        outcome TEXT NOT NULL CHECK (outcome IN ('success', 'failure', 'info')),
        details TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL UNIQUE
      );
      CREATE INDEX audit_action ON audit(action);
      CREATE INDEX audit_at ON audit(at);
      -- Append-only: the application never updates or deletes a row. These triggers stop it doing so by
      -- mistake; the hash chain detects what is done to the file behind its back.
      CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
      CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END;
      -- The chain head, updated in the same transaction as each append: truncating the tail is detected.
      CREATE TABLE audit_head (
        one INTEGER PRIMARY KEY CHECK (one = 1),
        last_id INTEGER NOT NULL,
        last_hash TEXT NOT NULL
      );
    `,
  },
];

export const ALL_MIGRATIONS: Migration[] = [...foundationMigrations, ...blobMigrations, ...sharingMigrations, ...patientsMigrations, ...mssanteMigrations, ...dmpMigrations];
