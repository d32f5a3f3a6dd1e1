import type { Migration } from '../store/migrations';

/** The DMP submission journal (no duplicate, no loss across crashes and network cuts). */
export const dmpMigrations: Migration[] = [
  {
    id: 'dmp/001-submissions',
    sql: `
      CREATE TABLE dmp_submissions (
        unique_id TEXT PRIMARY KEY,
        ins TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'ambiguous', 'failed')),
        set_unique_id TEXT,
        detail TEXT,
        updated_at TEXT NOT NULL
      );
    `,
  },
];
