import { createHash } from 'node:crypto';
import type { AuditEntry, AuditFilter, AuditVerifyResult } from '../../shared/api/audit';
import { AuditFilter as AuditFilterSchema } from '../../shared/api/audit';
import { redact } from '../core/redact';
import type { Db } from '../store/database';

export const GENESIS_HASH = '0'.repeat(64);

export interface AuditRecord {
  actor: string;
  action: string;
  subject?: string | null;
  outcome: 'success' | 'failure' | 'info';
  details?: Record<string, unknown>;
}

interface AuditRow {
  id: number;
  at: string;
  actor: string;
  action: string;
  subject: string | null;
  outcome: 'success' | 'failure' | 'info';
  details: string;
  prev_hash: string;
  hash: string;
}

/** The hash of one row: SHA-256 over a canonical JSON of its fields and the previous row's hash. */
export function rowHash(row: Omit<AuditRow, 'hash'>): string {
  const canonical = JSON.stringify([row.id, row.at, row.actor, row.action, row.subject, row.outcome, row.details, row.prev_hash]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/**
 * Append-only, hash-chained audit trail (SC.MSS/CONF.17/18, UX.37, DMP traces). Details are redacted
 * before they are written: no PIN, token or document body ever reaches the table.
 */
export class AuditTrail {
  private readonly listeners = new Set<(entry: AuditEntry) => void>();

  constructor(private readonly db: Db) {}

  onAppend(listener: (entry: AuditEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Inside `batch`: the chain head as it stands in the open transaction (read once, written once at the end). */
  private batchHead: { last_id: number; last_hash: string } | undefined;
  private inBatch = false;

  append(record: AuditRecord): AuditEntry {
    const redacted = redact(record.details ?? {}) as Record<string, unknown>;
    const entry = this.inBatch ? this.write(record, redacted) : this.db.transaction(() => this.write(record, redacted))();
    for (const l of this.listeners) l(entry);
    return entry;
  }

  /**
   * Runs `fn` in one transaction in which appends keep the chain head in memory: the head row is read once and
   * written once, not at every entry (a batch of received messages writes a few hundred entries). Nothing in
   * `fn` may swallow the failure of a nested savepoint that holds entries — the head would be ahead of the rows —
   * so a failure inside `fn` rolls the whole batch back.
   */
  batch<T>(fn: () => T): T {
    if (this.inBatch) return fn();
    return this.db.transaction(() => {
      this.inBatch = true;
      this.batchHead = this.head();
      try {
        const out = fn();
        if (this.batchHead) this.saveHead(this.batchHead.last_id, this.batchHead.last_hash);
        return out;
      } finally {
        this.inBatch = false;
        this.batchHead = undefined;
      }
    })();
  }

  private head(): { last_id: number; last_hash: string } | undefined {
    return this.db.prepare('SELECT last_id, last_hash FROM audit_head WHERE one = 1').get() as { last_id: number; last_hash: string } | undefined;
  }

  private saveHead(id: number, hash: string): void {
    this.db
      .prepare(
        `INSERT INTO audit_head (one, last_id, last_hash) VALUES (1, ?, ?)
         ON CONFLICT(one) DO UPDATE SET last_id = excluded.last_id, last_hash = excluded.last_hash`,
      )
      .run(id, hash);
  }

  private write(record: AuditRecord, redacted: Record<string, unknown>): AuditEntry {
    const details = JSON.stringify(redacted);
    const head = this.inBatch ? this.batchHead : this.head();
    const row: Omit<AuditRow, 'hash'> = {
      id: (head?.last_id ?? 0) + 1,
      at: new Date().toISOString(),
      actor: record.actor,
      action: record.action,
      subject: record.subject ?? null,
      outcome: record.outcome,
      details,
      prev_hash: head?.last_hash ?? GENESIS_HASH,
    };
    const hash = rowHash(row);
    this.db
      .prepare(
        `INSERT INTO audit (id, at, actor, action, subject, outcome, details, prev_hash, hash)
         VALUES (@id, @at, @actor, @action, @subject, @outcome, @details, @prev_hash, @hash)`,
      )
      .run({ ...row, hash });
    if (this.inBatch) this.batchHead = { last_id: row.id, last_hash: hash };
    else this.saveHead(row.id, hash);
    return { id: row.id, at: row.at, actor: row.actor, action: row.action, subject: row.subject, outcome: row.outcome, details: redacted, hash };
  }

  list(filter: AuditFilter = {}): { total: number; entries: AuditEntry[] } {
    const f = AuditFilterSchema.parse(filter);
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (f.action) {
      where.push('action LIKE @action');
      params.action = `${f.action}%`;
    }
    if (f.actor) {
      where.push('actor = @actor');
      params.actor = f.actor;
    }
    if (f.outcome) {
      where.push('outcome = @outcome');
      params.outcome = f.outcome;
    }
    if (f.text) {
      where.push('(subject LIKE @text OR details LIKE @text OR action LIKE @text)');
      params.text = `%${f.text}%`;
    }
    if (f.from) {
      where.push('at >= @from');
      params.from = new Date(f.from).toISOString();
    }
    if (f.to) {
      where.push('at <= @to');
      params.to = new Date(f.to).toISOString();
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = (this.db.prepare(`SELECT COUNT(*) AS n FROM audit ${clause}`).get(params) as { n: number }).n;
    const rows = this.db
      .prepare(`SELECT * FROM audit ${clause} ORDER BY id DESC LIMIT @limit OFFSET @offset`)
      .all({ ...params, limit: f.limit, offset: f.offset }) as AuditRow[];
    return { total, entries: rows.map(toEntry) };
  }

  /** Walks the whole chain; names the first row that was altered, inserted, removed or reordered. */
  verify(): AuditVerifyResult {
    let prevHash = GENESIS_HASH;
    let expectedId = 1;
    let rows = 0;
    const iter = this.db.prepare('SELECT * FROM audit ORDER BY id ASC').iterate() as IterableIterator<AuditRow>;
    for (const row of iter) {
      rows++;
      if (row.id !== expectedId) {
        return { ok: false, rows, brokenAt: expectedId, reason: `row ${expectedId} is missing (next row is ${row.id})` };
      }
      if (row.prev_hash !== prevHash) {
        return { ok: false, rows, brokenAt: row.id, reason: `row ${row.id} does not link to the previous row` };
      }
      if (rowHash(row) !== row.hash) {
        return { ok: false, rows, brokenAt: row.id, reason: `row ${row.id} was modified after it was written` };
      }
      prevHash = row.hash;
      expectedId++;
    }
    const head = this.db.prepare('SELECT last_id, last_hash FROM audit_head WHERE one = 1').get() as
      | { last_id: number; last_hash: string }
      | undefined;
    const lastId = expectedId - 1;
    if ((head?.last_id ?? 0) !== lastId || (head?.last_hash ?? GENESIS_HASH) !== prevHash) {
      return {
        ok: false,
        rows,
        brokenAt: Math.min(lastId + 1, head?.last_id ?? lastId + 1),
        reason: `the chain ends at row ${lastId} but its head records row ${head?.last_id ?? 0}: rows were removed from the end`,
      };
    }
    return { ok: true, rows };
  }
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    subject: row.subject,
    outcome: row.outcome,
    details: JSON.parse(row.details) as Record<string, unknown>,
    hash: row.hash,
  };
}

/** CSV for French spreadsheets: semicolon separator, UTF-8 BOM, every field quoted. */
export function auditToCsv(entries: AuditEntry[]): string {
  const q = (v: unknown) => `"${String(v ?? '').replace(/"/g, '""')}"`;
  const header = ['N°', 'Date', 'Acteur', 'Action', 'Objet', 'Résultat', 'Détails', 'Empreinte'];
  const lines = entries.map((e) =>
    [e.id, e.at, e.actor, e.action, e.subject ?? '', e.outcome, JSON.stringify(e.details), e.hash].map(q).join(';'),
  );
  return '\uFEFF' + [header.map(q).join(';'), ...lines].join('\r\n') + '\r\n';
}
