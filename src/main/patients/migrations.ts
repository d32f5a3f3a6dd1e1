import type { Migration } from '../store/migrations';

export const patientsMigrations: Migration[] = [
  {
    id: 'patients/001-patients',
    sql: `
      CREATE TABLE patients (
        id INTEGER PRIMARY KEY,
        ins TEXT,
        ins_oid TEXT,
        ins_qualified INTEGER NOT NULL DEFAULT 0 CHECK (ins_qualified IN (0, 1)),
        birth_family TEXT NOT NULL,
        birth_givens TEXT,
        first_given TEXT NOT NULL,
        used_family TEXT,
        used_given TEXT,
        gender TEXT NOT NULL CHECK (gender IN ('M', 'F', 'U')),
        birth_date TEXT NOT NULL,
        birth_place TEXT,
        ipp TEXT,
        ipp_oid TEXT,
        source TEXT NOT NULL DEFAULT 'local',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        CHECK ((ins IS NULL) = (ins_oid IS NULL)),
        CHECK ((ipp IS NULL) = (ipp_oid IS NULL))
      );
      CREATE UNIQUE INDEX patients_ins ON patients(ins, ins_oid) WHERE ins IS NOT NULL;
      CREATE UNIQUE INDEX patients_ipp ON patients(ipp, ipp_oid) WHERE ipp IS NOT NULL;
      CREATE INDEX patients_name ON patients(birth_family, first_given);
    `,
  },
];
