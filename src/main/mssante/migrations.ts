import type { Migration } from '../store/migrations';

export const mssanteMigrations: Migration[] = [
  {
    id: 'mssante/001-outbox',
    sql: `
      -- Persistent outbox: a row is written before anything goes on the wire; its Message-ID never changes,
      -- so a crash between SMTP acceptance and the status update is detected (Sent folder) instead of resent.
      CREATE TABLE mss_outbox (
        id TEXT PRIMARY KEY,
        account TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('document', 'mdn', 'message')),
        message_id TEXT NOT NULL UNIQUE,
        envelope_from TEXT NOT NULL,
        recipients TEXT NOT NULL,
        subject TEXT NOT NULL,
        -- the exact bytes, encrypted at rest in the secure blob store (core.blobs)
        raw_blob TEXT NOT NULL,
        dsn INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        last_error TEXT,
        smtp_response TEXT,
        sent_copy INTEGER NOT NULL DEFAULT 0,
        meta TEXT NOT NULL DEFAULT '{}',
        created_at TEXT NOT NULL,
        sent_at TEXT,
        -- acknowledgements received for this message
        delivery_status TEXT,
        read_status TEXT,
        integration_status TEXT,
        ack_code TEXT,
        ack_at TEXT
      );
      CREATE INDEX mss_outbox_status ON mss_outbox(status, next_attempt_at);
    `,
  },
  {
    id: 'mssante/002-reception',
    sql: `
      CREATE TABLE mss_sync_state (
        account TEXT NOT NULL,
        mailbox TEXT NOT NULL,
        uidvalidity TEXT NOT NULL,
        last_uid INTEGER NOT NULL,
        synced_at TEXT NOT NULL,
        PRIMARY KEY (account, mailbox)
      );
      -- One row per processed message, written in the same transaction as its effects (exactly once).
      CREATE TABLE mss_journal (
        account TEXT NOT NULL,
        mailbox TEXT NOT NULL,
        uidvalidity TEXT NOT NULL,
        uid INTEGER NOT NULL,
        message_id TEXT,
        kind TEXT NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '{}',
        sender TEXT,
        subject TEXT,
        mdn_requested_to TEXT,
        mdn_manual_sent INTEGER NOT NULL DEFAULT 0,
        processed_at TEXT NOT NULL,
        PRIMARY KEY (account, mailbox, uidvalidity, uid)
      );
      CREATE INDEX mss_journal_msgid ON mss_journal(account, message_id);
      -- Received documents: integrated in a patient record, queued for manual import, or rejected.
      -- A replaced version stays (status replaced, replaced_by), a deletion marks (deleted_at), never erases.
      CREATE TABLE mss_documents (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        message_id TEXT,
        doc_root TEXT NOT NULL,
        doc_ext TEXT NOT NULL DEFAULT '',
        set_root TEXT,
        set_ext TEXT,
        version INTEGER,
        type_code TEXT,
        type_label TEXT,
        title TEXT,
        effective_time TEXT,
        author_id TEXT,
        author_org TEXT,
        author_name TEXT,
        patient_ins TEXT,
        patient_ins_oid TEXT,
        patient_name TEXT,
        patient_birth_date TEXT,
        patient_id INTEGER REFERENCES patients(id),
        classification TEXT NOT NULL CHECK (classification IN ('initial', 'replacement', 'metadata-update', 'deletion')),
        status TEXT NOT NULL CHECK (status IN ('integrated', 'queued', 'replaced', 'deleted', 'rejected')),
        error_code TEXT,
        replaces_id INTEGER REFERENCES mss_documents(id),
        replaced_by_id INTEGER REFERENCES mss_documents(id),
        deleted_at TEXT,
        -- bodies encrypted at rest in the secure blob store (core.blobs); never in clear in SQLite
        cda_blob TEXT,
        pdf_blob TEXT,
        body_hash TEXT,
        pdf_name TEXT,
        received_at TEXT NOT NULL
      );
      CREATE INDEX mss_documents_doc ON mss_documents(doc_root, doc_ext);
      CREATE INDEX mss_documents_set ON mss_documents(set_root, set_ext);
      CREATE INDEX mss_documents_patient ON mss_documents(patient_id);
      CREATE INDEX mss_documents_status ON mss_documents(status);
    `,
  },
  {
    id: 'mssante/003-directory',
    sql: `
      CREATE TABLE mss_directory (
        id INTEGER PRIMARY KEY,
        address TEXT NOT NULL,
        kind TEXT,
        national_id TEXT,
        family TEXT,
        given TEXT,
        profession TEXT,
        specialty TEXT,
        organization TEXT,
        city TEXT,
        postal_code TEXT
      );
      CREATE INDEX mss_directory_national_id ON mss_directory(national_id);
      CREATE INDEX mss_directory_address ON mss_directory(address);
      CREATE VIRTUAL TABLE mss_directory_fts USING fts5(
        family, given, profession, city, organization, address, national_id,
        content='mss_directory', content_rowid='id', tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3'
      );
      CREATE TABLE mss_directory_meta (one INTEGER PRIMARY KEY CHECK (one = 1), source TEXT, imported_at TEXT, rows INTEGER);
    `,
  },
  {
    id: 'mssante/004-directory-keys',
    sql: `
      -- Folded profession / city (lower case, no accents, single spaces) with B-tree indexes: searches on these
      -- low-cardinality fields alone ("médecin" + "Paris": 10^5 matches) walk an index range instead of
      -- intersecting huge full-text doclists. Filled by the next import.
      ALTER TABLE mss_directory ADD COLUMN profession_key TEXT;
      ALTER TABLE mss_directory ADD COLUMN city_key TEXT;
      CREATE INDEX mss_directory_prof_city ON mss_directory(profession_key, city_key);
      CREATE INDEX mss_directory_city ON mss_directory(city_key);
    `,
  },
  {
    id: 'mssante/005-outbox-claim',
    sql: `
      -- Which process is sending a row, until when: two processes on one data folder (the app and the CLI) never
      -- send the same message, and a row left 'sending' by a live process is not taken for an interrupted one.
      ALTER TABLE mss_outbox ADD COLUMN claimed_by TEXT;
      ALTER TABLE mss_outbox ADD COLUMN claimed_until TEXT;
    `,
  },
];
