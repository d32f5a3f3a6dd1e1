import { randomUUID } from 'node:crypto';
import type { ImapFlow } from 'imapflow';
import type { AuditTrail } from '../audit/audit-trail';
import { AppError } from '../core/errors';
import type { Db } from '../store/database';
import type { SecureBlobStore } from '../store/secure-blobs';
import type { MailAccountConfig } from './accounts';
import type { ReportStatus } from './report-parse';
import type { BuiltMessage } from './message-build';
import { faultPoint } from './faults';
import { isPermanent, openImap, smtpSend, type MailContext } from './transport';

/**
 * The persistent outbox. A message is written here (exact bytes, fixed Message-ID) before anything goes on
 * the wire; `flush` sends what is due. States: queued → sending → sent | failed (retried with backoff).
 *
 * Exactly once: a row found in `sending` at start-up was interrupted (crash, kill, power cut). Before it
 * is sent again, the account's Sent folder is searched for its Message-ID; the sent copy is appended right
 * after the SMTP acceptance. The only remaining window is between the server's "250" and the synchronous
 * SQLite commit that follows it; a message resent from that window keeps its Message-ID, and receivers
 * (ours included) deduplicate on it.
 */
export type OutboxKind = 'document' | 'mdn' | 'message';
export type OutboxStatus = 'queued' | 'sending' | 'sent' | 'failed';

export interface OutboxItem {
  id: string;
  account: string;
  kind: OutboxKind;
  messageId: string;
  recipients: string[];
  subject: string;
  status: OutboxStatus;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  sentAt: string | null;
  sentCopy: boolean;
  dsn: boolean;
  deliveryStatus: string | null;
  readStatus: string | null;
  integrationStatus: string | null;
  ackCode: string | null;
  ackAt: string | null;
  meta: Record<string, unknown>;
}

interface Row {
  id: string;
  account: string;
  kind: OutboxKind;
  message_id: string;
  envelope_from: string;
  recipients: string;
  subject: string;
  dsn: number;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  smtp_response: string | null;
  sent_copy: number;
  meta: string;
  created_at: string;
  sent_at: string | null;
  delivery_status: string | null;
  read_status: string | null;
  integration_status: string | null;
  ack_code: string | null;
  ack_at: string | null;
}

const COLUMNS = `id, account, kind, message_id, envelope_from, recipients, subject, dsn, status, attempts, next_attempt_at, last_error,
  smtp_response, sent_copy, meta, created_at, sent_at, delivery_status, read_status, integration_status, ack_code, ack_at`;

function toItem(r: Row): OutboxItem {
  return {
    id: r.id,
    account: r.account,
    kind: r.kind,
    messageId: r.message_id,
    recipients: JSON.parse(r.recipients) as string[],
    subject: r.subject,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: r.created_at,
    sentAt: r.sent_at,
    sentCopy: r.sent_copy === 1,
    dsn: r.dsn === 1,
    deliveryStatus: r.delivery_status,
    readStatus: r.read_status,
    integrationStatus: r.integration_status,
    ackCode: r.ack_code,
    ackAt: r.ack_at,
    meta: JSON.parse(r.meta) as Record<string, unknown>,
  };
}

export function backoffMs(attempts: number): number {
  return Math.min(60 * 60_000, 5_000 * 2 ** Math.max(0, attempts - 1));
}

/** How long a claim holds without being released (a send that takes longer is unlikely; a crash frees it sooner). */
const CLAIM_MS = 10 * 60_000;

/** Whether the process that made a claim (`<pid>:<uuid>`, same machine: the database is local) still runs. */
function claimantAlive(claimedBy: string): boolean {
  const pid = Number(claimedBy.split(':')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class Outbox {
  /** This outbox's identity in claims. */
  private readonly claimant = `${process.pid}:${randomUUID()}`;

  constructor(
    private readonly db: Db,
    private readonly blobs: SecureBlobStore,
    private readonly audit: AuditTrail,
    private readonly accountOf: (address: string) => MailAccountConfig,
    private readonly ctx: MailContext,
  ) {}

  enqueue(input: { account: string; kind: OutboxKind; built: BuiltMessage; dsn?: boolean; meta?: Record<string, unknown>; id?: string }): OutboxItem {
    const id = input.id ?? randomUUID();
    this.db
      .prepare(
        `INSERT INTO mss_outbox (id, account, kind, message_id, envelope_from, recipients, subject, raw_blob, dsn, status, attempts, meta, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued', 0, ?, ?)`,
      )
      .run(id, input.account, input.kind, input.built.messageId, input.account, JSON.stringify(input.built.recipients), input.built.subject, this.blobs.put(input.built.raw), input.dsn ? 1 : 0, JSON.stringify(input.meta ?? {}), new Date().toISOString());
    this.audit.append({
      actor: input.account,
      action: `mssante.outbox.${input.kind}.queued`,
      subject: input.built.messageId,
      outcome: 'info',
      details: { outboxId: id, recipients: input.built.recipients, cdaIds: input.built.documents.map((d) => d.id), headers: input.built.headers },
    });
    return this.get(id);
  }

  get(id: string): OutboxItem {
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM mss_outbox WHERE id = ?`).get(id) as Row | undefined;
    if (!r) throw new AppError('MSS_OUTBOX_NOT_FOUND', "Ce message n'existe pas dans la boîte d'envoi.", id);
    return toItem(r);
  }

  byMessageId(messageId: string): OutboxItem | undefined {
    const r = this.db.prepare(`SELECT ${COLUMNS} FROM mss_outbox WHERE message_id = ?`).get(messageId) as Row | undefined;
    return r ? toItem(r) : undefined;
  }

  list(filter: { account?: string; status?: OutboxStatus; limit?: number } = {}): OutboxItem[] {
    const where: string[] = [];
    const p: Record<string, unknown> = { limit: filter.limit ?? 100 };
    if (filter.account) {
      where.push('account = @account');
      p.account = filter.account;
    }
    if (filter.status) {
      where.push('status = @status');
      p.status = filter.status;
    }
    return (this.db.prepare(`SELECT ${COLUMNS} FROM mss_outbox ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC LIMIT @limit`).all(p) as Row[]).map(toItem);
  }

  /** Sends every due row (optionally only for some accounts / ids). Never throws for one message's failure. */
  private flushQueue: Promise<unknown> = Promise.resolve();

  /**
   * Sends what is due. Flushes of this process run one after the other (the user's send, a watcher's
   * post-sync flush and a retry timer may overlap); across processes (the app and the CLI on one data folder)
   * each row is claimed before it is sent, so an item is never picked up by two flushes at once.
   */
  flush(filter: { account?: string; ids?: string[]; now?: Date } = {}): Promise<OutboxItem[]> {
    const run = this.flushQueue.then(() => this.flushNow(filter));
    this.flushQueue = run.catch(() => undefined);
    return run;
  }

  private async flushNow(filter: { account?: string; ids?: string[]; now?: Date }): Promise<OutboxItem[]> {
    const now = (filter.now ?? new Date()).toISOString();
    const rows = this.db
      .prepare(
        `SELECT ${COLUMNS} FROM mss_outbox WHERE (status = 'sending' OR (status = 'queued' AND (next_attempt_at IS NULL OR next_attempt_at <= ?)))
         ORDER BY created_at`,
      )
      .all(now) as Row[];
    const due = rows.filter((r) => (!filter.account || r.account === filter.account) && (!filter.ids || filter.ids.includes(r.id)));
    const done: OutboxItem[] = [];
    let imap: { account: string; client: ImapFlow } | undefined;
    const imapFor = async (account: MailAccountConfig) => {
      if (imap?.account === account.address && imap.client.usable) return imap.client;
      await imap?.client.logout().catch(() => {});
      imap = { account: account.address, client: await openImap(account, this.ctx) };
      return imap.client;
    };
    try {
      for (const r of due) {
        const item = await this.sendOne(r, imapFor);
        if (item) done.push(item);
      }
    } finally {
      await imap?.client.logout().catch(() => {});
    }
    return done;
  }

  /**
   * Claims a row for this outbox, atomically across processes (one SQLite write): free, already ours, expired,
   * or left by a process that no longer runs. False: another live process is sending it.
   */
  private claim(id: string): boolean {
    const now = new Date();
    const held = this.db.prepare('SELECT claimed_by, claimed_until FROM mss_outbox WHERE id = ?').get(id) as { claimed_by: string | null; claimed_until: string | null } | undefined;
    if (!held) return false;
    const stale = !held.claimed_by || held.claimed_by === this.claimant || !held.claimed_until || held.claimed_until < now.toISOString() || !claimantAlive(held.claimed_by);
    if (!stale) return false;
    const r = this.db
      .prepare(`UPDATE mss_outbox SET claimed_by = ?, claimed_until = ? WHERE id = ? AND claimed_by IS ? AND status IN ('queued', 'sending')`)
      .run(this.claimant, new Date(now.getTime() + CLAIM_MS).toISOString(), id, held.claimed_by);
    return r.changes === 1;
  }

  private release(id: string): void {
    this.db.prepare('UPDATE mss_outbox SET claimed_by = NULL, claimed_until = NULL WHERE id = ? AND claimed_by = ?').run(id, this.claimant);
  }

  private async sendOne(row: Row, imapFor: (a: MailAccountConfig) => Promise<ImapFlow>): Promise<OutboxItem | undefined> {
    if (!this.claim(row.id)) return undefined; // another process is on it
    try {
      // Re-read under the claim: the row may have been sent by another process since the list was taken.
      const r = this.db.prepare(`SELECT ${COLUMNS} FROM mss_outbox WHERE id = ?`).get(row.id) as Row;
      if (r.status !== 'queued' && r.status !== 'sending') return toItem(r);
      return await this.sendClaimed(r, imapFor);
    } finally {
      this.release(row.id);
    }
  }

  private async sendClaimed(r: Row, imapFor: (a: MailAccountConfig) => Promise<ImapFlow>): Promise<OutboxItem> {
    let account: MailAccountConfig;
    try {
      account = this.accountOf(r.account);
    } catch (err) {
      this.fail(r, err, true);
      return this.get(r.id);
    }
    if (r.status === 'sending') {
      // Interrupted earlier: was it accepted? The sent copy (appended right after acceptance) tells.
      try {
        const client = await imapFor(account);
        if (await findInSent(client, r.message_id)) {
          this.db.prepare(`UPDATE mss_outbox SET status = 'sent', sent_at = COALESCE(sent_at, ?), sent_copy = 1 WHERE id = ?`).run(new Date().toISOString(), r.id);
          this.audit.append({ actor: r.account, action: `mssante.outbox.${r.kind}.recovered`, subject: r.message_id, outcome: 'success', details: { outboxId: r.id, found: 'sent-folder' } });
          return this.get(r.id);
        }
      } catch (err) {
        this.fail(r, err, false);
        return this.get(r.id);
      }
    }
    this.db.prepare(`UPDATE mss_outbox SET status = 'sending', attempts = attempts + 1 WHERE id = ?`).run(r.id);
    faultPoint('outbox-before-smtp');
    const raw = this.rawOf(r.id);
    let response: string;
    try {
      const recipients = JSON.parse(r.recipients) as string[];
      const res = await smtpSend(account, this.ctx, { from: r.envelope_from, to: recipients, raw, ...(r.dsn ? { dsn: { id: r.id, notify: ['success', 'failure', 'delay'] } } : {}) });
      response = res.response;
    } catch (err) {
      this.fail(r, err, isPermanent(err));
      return this.get(r.id);
    }
    const sentAt = new Date().toISOString();
    this.db.prepare(`UPDATE mss_outbox SET status = 'sent', sent_at = ?, smtp_response = ?, last_error = NULL, next_attempt_at = NULL WHERE id = ?`).run(sentAt, response.slice(0, 300), r.id);
    this.audit.append({ actor: r.account, action: `mssante.outbox.${r.kind}.sent`, subject: r.message_id, outcome: 'success', details: { outboxId: r.id, smtp: response.slice(0, 120) } });
    faultPoint('outbox-after-commit');
    try {
      const client = await imapFor(account);
      const sent = await sentMailbox(client);
      await client.append(sent, raw, ['\\Seen']);
      this.db.prepare('UPDATE mss_outbox SET sent_copy = 1 WHERE id = ?').run(r.id);
    } catch {
      // The message left; the copy will be retried by `keepSentCopies`.
    }
    return this.get(r.id);
  }

  /** Appends the sent copy of messages that left but whose copy could not be stored yet. */
  async keepSentCopies(account: MailAccountConfig): Promise<number> {
    const rows = (this.db.prepare(`SELECT id, message_id FROM mss_outbox WHERE account = ? AND status = 'sent' AND sent_copy = 0`).all(account.address) as { id: string; message_id: string }[]).map((r) => ({ ...r, raw: this.rawOf(r.id) }));
    if (!rows.length) return 0;
    const client = await openImap(account, this.ctx);
    try {
      const sent = await sentMailbox(client);
      for (const r of rows) {
        if (!(await findInSent(client, r.message_id))) await client.append(sent, r.raw, ['\\Seen']);
        this.db.prepare('UPDATE mss_outbox SET sent_copy = 1 WHERE id = ?').run(r.id);
      }
    } finally {
      await client.logout().catch(() => {});
    }
    return rows.length;
  }

  /** The exact bytes of a queued/sent message (decrypted from the blob store). */
  rawOf(id: string): Buffer {
    const r = this.db.prepare('SELECT raw_blob FROM mss_outbox WHERE id = ?').get(id) as { raw_blob: string } | undefined;
    if (!r) throw new AppError('MSS_OUTBOX_NOT_FOUND', "Ce message n'existe pas dans la boîte d'envoi.", id);
    return this.blobs.get(r.raw_blob);
  }

  private fail(r: Row, err: unknown, permanent: boolean): void {
    const e = err instanceof AppError ? err : new AppError('MSS_SEND_FAILED', "L'envoi a échoué.", (err as Error)?.message ?? String(err));
    const attempts = r.attempts + 1;
    if (permanent) {
      this.db.prepare(`UPDATE mss_outbox SET status = 'failed', last_error = ? WHERE id = ?`).run(`${e.code}: ${e.detail ?? e.userMessage}`.slice(0, 500), r.id);
    } else {
      const next = new Date(Date.now() + backoffMs(attempts)).toISOString();
      // Back to queued only if the row did not reach the server (it stays `sending` when unknown).
      this.db.prepare(`UPDATE mss_outbox SET status = CASE WHEN status = 'sending' THEN 'queued' ELSE status END, next_attempt_at = ?, last_error = ? WHERE id = ?`).run(next, `${e.code}: ${e.detail ?? e.userMessage}`.slice(0, 500), r.id);
    }
    this.audit.append({ actor: r.account, action: `mssante.outbox.${r.kind}.${permanent ? 'failed' : 'deferred'}`, subject: r.message_id, outcome: 'failure', details: { outboxId: r.id, code: e.code, detail: e.detail } });
  }

  /** Records an incoming MDN/DSN against the sent message it is about. Returns the updated item, if ours. */
  applyReport(report: ReportStatus): OutboxItem | undefined {
    let item: OutboxItem | undefined;
    if (report.originalMessageId) item = this.byMessageId(report.originalMessageId);
    if (!item && report.type === 'dsn' && report.envelopeId) {
      try {
        item = this.get(report.envelopeId);
      } catch {
        item = undefined;
      }
    }
    if (!item) return undefined;
    const at = new Date().toISOString();
    if (report.type === 'dsn') {
      this.db.prepare('UPDATE mss_outbox SET delivery_status = ?, ack_at = ? WHERE id = ?').run(report.state, at, item.id);
    } else if (report.state === 'read') {
      this.db.prepare('UPDATE mss_outbox SET read_status = ?, ack_at = ? WHERE id = ?').run('read', at, item.id);
    } else if (report.state === 'integrated' || report.state === 'failed') {
      this.db.prepare('UPDATE mss_outbox SET integration_status = ?, ack_code = ?, ack_at = ? WHERE id = ?').run(report.state, report.type === 'mdn' ? (report.code ?? null) : null, at, item.id);
    }
    return this.get(item.id);
  }
}

export async function sentMailbox(client: ImapFlow): Promise<string> {
  const list = await client.list();
  const sent = list.find((m) => m.specialUse === '\\Sent');
  if (sent) return sent.path;
  const byName = list.find((m) => /^(sent|envoy[ée]s|[ée]l[ée]ments envoy[ée]s)$/i.test(m.name));
  if (byName) return byName.path;
  await client.mailboxCreate('Sent').catch(() => {});
  return 'Sent';
}

async function findInSent(client: ImapFlow, messageId: string): Promise<boolean> {
  const path = await sentMailbox(client);
  const lock = await client.getMailboxLock(path);
  try {
    const uids = await client.search({ header: { 'message-id': messageId } }, { uid: true });
    return Array.isArray(uids) && uids.length > 0;
  } finally {
    lock.release();
  }
}
