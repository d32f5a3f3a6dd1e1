import crypto from 'node:crypto';
import type { ApiError } from '../../shared/api/types';
import type { Db } from '../store/database';
import type { Migration } from '../store/migrations';

/** A Y-mode share: one document set sent by MSSanté and/or published in the DMP. */
export type ChannelId = 'mssante' | 'dmp';
export type ChannelStatus = 'pending' | 'running' | 'done' | 'failed';

export interface ChannelState {
  status: ChannelStatus;
  attempts: number;
  /** Identifiers of what was done (message id, document uniqueId…): what makes a retry safe. */
  result?: Record<string, string>;
  error?: ApiError;
  updatedAt: string;
}

export interface ShareJob {
  id: string;
  createdAt: string;
  title: string;
  patientIns: string | null;
  /** The channel requests (no document body: those live in the encrypted blob store, referenced by id). */
  request: Record<string, unknown>;
  channels: Partial<Record<ChannelId, ChannelState>>;
}

export const sharingMigrations: Migration[] = [
  {
    id: 'sharing/001-share-jobs',
    sql: `
      CREATE TABLE share_jobs (
        id TEXT PRIMARY KEY,
        created_at TEXT NOT NULL,
        title TEXT NOT NULL,
        patient_ins TEXT,
        request TEXT NOT NULL
      );
      CREATE TABLE share_channels (
        job_id TEXT NOT NULL REFERENCES share_jobs(id),
        channel TEXT NOT NULL CHECK (channel IN ('mssante', 'dmp')),
        status TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        result TEXT,
        error TEXT,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (job_id, channel)
      );
    `,
  },
];

interface ChannelRow {
  channel: ChannelId;
  status: ChannelStatus;
  attempts: number;
  result: string | null;
  error: string | null;
  updated_at: string;
}

export class ShareJobRepository {
  constructor(private readonly db: Db) {}

  create(input: { title: string; patientIns: string | null; request: Record<string, unknown>; channels: ChannelId[] }): ShareJob {
    const id = crypto.randomUUID();
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO share_jobs (id, created_at, title, patient_ins, request) VALUES (?, ?, ?, ?, ?)')
        .run(id, now, input.title, input.patientIns, JSON.stringify(input.request));
      for (const c of input.channels) {
        this.db.prepare("INSERT INTO share_channels (job_id, channel, status, attempts, updated_at) VALUES (?, ?, 'pending', 0, ?)").run(id, c, now);
      }
    })();
    return this.get(id)!;
  }

  get(id: string): ShareJob | undefined {
    const job = this.db.prepare('SELECT * FROM share_jobs WHERE id = ?').get(id) as
      | { id: string; created_at: string; title: string; patient_ins: string | null; request: string }
      | undefined;
    if (!job) return undefined;
    const rows = this.db.prepare('SELECT * FROM share_channels WHERE job_id = ?').all(id) as ChannelRow[];
    return {
      id: job.id,
      createdAt: job.created_at,
      title: job.title,
      patientIns: job.patient_ins,
      request: JSON.parse(job.request) as Record<string, unknown>,
      channels: Object.fromEntries(
        rows.map((r) => [
          r.channel,
          {
            status: r.status,
            attempts: r.attempts,
            updatedAt: r.updated_at,
            ...(r.result ? { result: JSON.parse(r.result) as Record<string, string> } : {}),
            ...(r.error ? { error: JSON.parse(r.error) as ApiError } : {}),
          },
        ]),
      ),
    };
  }

  list(limit = 50): ShareJob[] {
    const ids = this.db.prepare('SELECT id FROM share_jobs ORDER BY created_at DESC LIMIT ?').all(limit) as { id: string }[];
    return ids.map((r) => this.get(r.id)!);
  }

  /** Marks a channel running and counts the attempt; returns false when it is already done. */
  start(id: string, channel: ChannelId): boolean {
    const r = this.db
      .prepare("UPDATE share_channels SET status = 'running', attempts = attempts + 1, error = NULL, updated_at = ? WHERE job_id = ? AND channel = ? AND status != 'done'")
      .run(new Date().toISOString(), id, channel);
    return r.changes === 1;
  }

  /** Records what a channel achieved so far (e.g. the uniqueId before the DMP call): kept across a crash. */
  note(id: string, channel: ChannelId, result: Record<string, string>): void {
    const row = this.db.prepare('SELECT result FROM share_channels WHERE job_id = ? AND channel = ?').get(id, channel) as { result: string | null } | undefined;
    const merged = { ...(row?.result ? (JSON.parse(row.result) as Record<string, string>) : {}), ...result };
    this.db.prepare('UPDATE share_channels SET result = ?, updated_at = ? WHERE job_id = ? AND channel = ?').run(JSON.stringify(merged), new Date().toISOString(), id, channel);
  }

  finish(id: string, channel: ChannelId, outcome: { ok: true; result: Record<string, string> } | { ok: false; error: ApiError }): void {
    if (outcome.ok) this.note(id, channel, outcome.result);
    this.db
      .prepare('UPDATE share_channels SET status = ?, error = ?, updated_at = ? WHERE job_id = ? AND channel = ?')
      .run(outcome.ok ? 'done' : 'failed', outcome.ok ? null : JSON.stringify(outcome.error), new Date().toISOString(), id, channel);
  }

  /** After a crash, channels left `running` are marked failed so the user can resume them knowingly. */
  recoverInterrupted(): number {
    const r = this.db
      .prepare("UPDATE share_channels SET status = 'failed', error = ?, updated_at = ? WHERE status = 'running'")
      .run(
        JSON.stringify({ code: 'SHARE_INTERRUPTED', message: "L'envoi a été interrompu (arrêt de l'application). Reprenez-le : ce qui a abouti ne sera pas renvoyé." }),
        new Date().toISOString(),
      );
    return r.changes;
  }
}
