import type { ImapFlow } from 'imapflow';
import type { Db } from '../store/database';
import type { MailAccountConfig } from './accounts';
import { faultPoint } from './faults';
import type { MailReader } from './mail-read-pool';
import type { MessageOutcome, ReadMessage, Reception } from './reception';
import { openImap, type MailContext } from './transport';
import { PROCESSED_KEYWORD, RECEIVE_LIMITS } from './wire-profile';

/**
 * Incremental IMAP synchronisation of one mailbox: UIDVALIDITY + last UID cursor, new messages fetched in
 * size-bounded batches (memory does not grow with the mailbox), each processed exactly once (journal row
 * in the same transaction as its effects, then the IMAP keyword), reconnect with backoff.
 */
export interface SyncReport {
  account: string;
  mailbox: string;
  uidValidity: string;
  examined: number;
  messages: MessageOutcome[];
  /** Where the new messages were read: on worker threads (large syncs, on a machine with them) or on the main thread. */
  readOn: 'workers' | 'main';
}

const BATCH_BYTES = 16 * 1024 * 1024;
const BATCH_COUNT = 100;
/** From this many new messages on, a sync reads them on worker threads (where the machine has them: `readWorkerCount`). */
const POOL_MIN_MESSAGES = 20;

interface ReadBatch {
  read: Promise<ReadMessage[]>;
  toFlag: number[];
  lastUid: number;
}

/** An IMAP sequence set for UIDs, runs as ranges (`1:100,105`): a batch is mostly consecutive UIDs. */
export function uidSet(uids: number[]): string {
  const sorted = [...new Set(uids)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    out.push(j > i ? `${sorted[i]}:${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return out.join(',');
}

interface PendingMessage {
  uid: number;
  size: number;
  flags: Set<string>;
}

/** The next batch from `pending[i]`: bounded in count and in bytes (at least one message). */
function nextBatch(pending: PendingMessage[], i: number): PendingMessage[] {
  const batch: PendingMessage[] = [];
  let bytes = 0;
  for (; i < pending.length && batch.length < BATCH_COUNT; i++) {
    const m = pending[i]!;
    const size = Math.min(m.size, RECEIVE_LIMITS.maxMessageBytes);
    if (batch.length && bytes + size > BATCH_BYTES) break;
    batch.push(m);
    bytes += size;
  }
  return batch;
}

function readOne(reader: MailReader, account: MailAccountConfig, mailbox: string, uidValidity: string, m: PendingMessage, raw: Buffer | undefined, headersOnly: Buffer | undefined): Promise<ReadMessage> {
  return reader.read({ uid: m.uid, size: m.size, raw, headersOnly }).then((r) => ({
    msg: { account, mailbox, uidValidity, uid: m.uid, size: m.size, raw, headerText: r.headerText, dnt: r.dnt, autoSubmitted: r.autoSubmitted },
    outcome: r.outcome,
    prepared: r.prepared,
  }));
}

export interface MailReaders {
  inline: MailReader;
  /** The reading workers, started if need be; undefined when this machine reads on the main thread. */
  pool: () => MailReader | undefined;
}

export class InboxSync {
  constructor(
    private readonly db: Db,
    private readonly reception: Reception,
    private readonly ctx: MailContext,
    private readonly readers: MailReaders,
  ) {}

  private cursor(account: string, mailbox: string): { uidvalidity: string; last_uid: number } | undefined {
    return this.db.prepare('SELECT uidvalidity, last_uid FROM mss_sync_state WHERE account = ? AND mailbox = ?').get(account, mailbox) as { uidvalidity: string; last_uid: number } | undefined;
  }

  private saveCursor(account: string, mailbox: string, uidValidity: string, lastUid: number): void {
    this.db
      .prepare(
        `INSERT INTO mss_sync_state (account, mailbox, uidvalidity, last_uid, synced_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(account, mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid, synced_at = excluded.synced_at`,
      )
      .run(account, mailbox, uidValidity, lastUid, new Date().toISOString());
  }

  /** One pass over the mailbox on an open session. */
  async syncWith(client: ImapFlow, account: MailAccountConfig, mailbox = 'INBOX', onMessage?: (o: MessageOutcome) => void): Promise<SyncReport> {
    const lock = await client.getMailboxLock(mailbox);
    const report: SyncReport = { account: account.address, mailbox, uidValidity: '', examined: 0, messages: [], readOn: 'main' };
    try {
      const box = client.mailbox;
      if (!box || typeof box === 'boolean') throw new Error(`mailbox ${mailbox} not open`);
      const uidValidity = String(box.uidValidity);
      report.uidValidity = uidValidity;
      const cur = this.cursor(account.address, mailbox);
      // A new UIDVALIDITY invalidates every UID: start again; the journal (by Message-ID) prevents doubles.
      let last = cur && cur.uidvalidity === uidValidity ? cur.last_uid : 0;
      // Only an empty mailbox is known to hold nothing new: `uidNext` is stale on a session that stays
      // selected (IDLE / polling watcher), so new messages are found by fetching `last+1:*` instead.
      if (box.exists === 0) {
        this.saveCursor(account.address, mailbox, uidValidity, last);
        return report;
      }
      // A large delivery is likely (fresh session: uidNext is current): start the reading workers (if any) now, so
      // they boot while the metadata is fetched.
      if (Number(box.uidNext ?? 0) - 1 - last >= POOL_MIN_MESSAGES) this.readers.pool();
      // Light metadata of every new message (UID, size, flags): a few bytes each.
      const pending: PendingMessage[] = [];
      for await (const m of client.fetch(`${last + 1}:*`, { uid: true, size: true, flags: true }, { uid: true })) {
        if (m.uid > last) pending.push({ uid: m.uid, size: m.size ?? 0, flags: m.flags ?? new Set() });
      }
      pending.sort((a, b) => a.uid - b.uid);
      report.examined = pending.length;
      // Pipeline: each message is read (on worker threads, for a large sync on a machine with them) as it arrives;
      // while one batch is fetched, the previous one is committed, so that on a real network link the connection
      // never waits for the commit. Batches are committed strictly in order, each in one transaction, then flagged
      // (on the same session: after the FETCH under way), then the cursor moves.
      const pool = pending.length >= POOL_MIN_MESSAGES ? this.readers.pool() : undefined;
      if (pool) report.readOn = 'workers';
      const reader = pool ?? this.readers.inline;
      const commit = async (b: ReadBatch) => {
        const read = await b.read;
        faultPoint('sync-before-commit');
        const outcomes = read.length ? this.reception.commitAll(read) : [];
        faultPoint('sync-after-commit');
        for (const outcome of outcomes) {
          report.messages.push(outcome);
          onMessage?.(outcome);
          b.toFlag.push(outcome.uid);
        }
      };
      const flag = async (b: ReadBatch) => {
        if (b.toFlag.length) await client.messageFlagsAdd(uidSet(b.toFlag), [PROCESSED_KEYWORD], { uid: true }).catch(() => {});
        last = Math.max(last, b.lastUid);
        this.saveCursor(account.address, mailbox, uidValidity, last);
      };
      let inFlight: ReadBatch | undefined;
      let i = 0;
      while (i < pending.length) {
        const batch = nextBatch(pending, i);
        i += batch.length;
        const fetching = this.startBatch(client, account, mailbox, uidValidity, batch, reader, report);
        fetching.catch(() => {}); // awaited below, after the commit
        if (inFlight) {
          // The FETCH command leaves before the commit holds the thread (imapflow writes it within microtasks).
          await new Promise((r) => setImmediate(r));
          try {
            await commit(inFlight);
          } catch (err) {
            // Nothing of this batch is committed; the FETCH under way ends before the session is handed back.
            await fetching.catch(() => {});
            throw err;
          }
        }
        const next = await fetching;
        if (inFlight) await flag(inFlight);
        inFlight = next;
      }
      if (inFlight) {
        await commit(inFlight);
        await flag(inFlight);
      }
      return report;
    } finally {
      lock.release();
    }
  }

  /**
   * Starts one batch: skips what the journal or the keyword says is done, fetches the rest (whole sources, or
   * headers only above the receive limit) and hands each message to the reader. Kept out of `syncWith`, whose
   * loop V8 would otherwise compile as one large function.
   */
  private async startBatch(client: ImapFlow, account: MailAccountConfig, mailbox: string, uidValidity: string, batch: PendingMessage[], reader: MailReader, report: SyncReport): Promise<ReadBatch> {
    const toFetch: number[] = [];
    const toHeaders: number[] = [];
    const toFlag: number[] = [];
    for (const m of batch) {
      if (this.reception.journalState(account.address, mailbox, uidValidity, m.uid)) {
        if (!m.flags.has(PROCESSED_KEYWORD)) toFlag.push(m.uid);
        continue;
      }
      if (m.flags.has(PROCESSED_KEYWORD)) {
        report.messages.push(this.reception.recordAlreadyProcessed(account.address, mailbox, uidValidity, m.uid));
        continue;
      }
      (m.size > RECEIVE_LIMITS.maxMessageBytes ? toHeaders : toFetch).push(m.uid);
    }
    // Each message is handed to the reader as soon as its source has arrived, so reading overlaps the rest of the
    // FETCH; the batch's reads are then put back in UID order for the commit.
    const byUid = new Map(batch.map((m) => [m.uid, m]));
    const reading = new Map<number, Promise<ReadMessage>>();
    const start = (uid: number, raw: Buffer | undefined, hdr: Buffer | undefined) => {
      const m = byUid.get(uid);
      if (!m || reading.has(uid)) return;
      const read = readOne(reader, account, mailbox, uidValidity, m, raw, hdr);
      // Awaited (in order) by the commit; a read failing while the FETCH is still running, or left behind by a FETCH
      // cut midway, must not surface as an unhandled rejection meanwhile.
      read.catch(() => {});
      reading.set(uid, read);
    };
    if (toFetch.length) {
      for await (const m of client.fetch(uidSet(toFetch), { uid: true, source: true }, { uid: true })) if (m.source) start(m.uid, m.source, undefined);
    }
    if (toHeaders.length) {
      for await (const m of client.fetch(uidSet(toHeaders), { uid: true, headers: true }, { uid: true })) if (m.headers) start(m.uid, undefined, m.headers);
    }
    const reads = batch.flatMap((m) => reading.get(m.uid) ?? []);
    const next: ReadBatch = { read: Promise.all(reads), toFlag, lastUid: Math.max(...batch.map((m) => m.uid)) };
    next.read.catch(() => {}); // likewise
    return next;
  }

  /** Connects, syncs once, disconnects; retries the connection with backoff on network failures. */
  async syncOnce(account: MailAccountConfig, opts: { mailbox?: string; retries?: number; onMessage?: (o: MessageOutcome) => void } = {}): Promise<SyncReport> {
    const retries = opts.retries ?? 3;
    let lastErr: unknown;
    for (let attempt = 0; attempt <= retries; attempt++) {
      let client: ImapFlow | undefined;
      try {
        client = await openImap(account, this.ctx, { fresh: attempt > 0 });
        return await this.syncWith(client, account, opts.mailbox, opts.onMessage);
      } catch (err) {
        lastErr = err;
        const code = (err as { code?: string }).code;
        if (code === 'MSS_TLS_UNTRUSTED' || code === 'MSS_PSC_REQUIRED' || code === 'MSS_NO_SECRET' || code === 'MSS_NO_CLIENT_CERT') break;
        if (attempt < retries) await new Promise((r) => setTimeout(r, Math.min(8000, 250 * 2 ** attempt)));
      } finally {
        await client?.logout().catch(() => client?.close());
      }
    }
    throw lastErr;
  }
}

export interface Watcher {
  stop(): Promise<void>;
  /** Resolves when the watcher has an open session and has synced once (for tests and the UI). */
  ready(): Promise<void>;
  readonly reconnects: number;
  /** How the current session learns about new mail: IMAP IDLE, or polling (server without IDLE, or IDLE refused). */
  readonly mode: 'connecting' | 'idle' | 'polling';
}

export interface WatchOptions {
  onMessage?: (o: MessageOutcome) => void;
  onError?: (err: unknown) => void;
  onSynced?: (r: SyncReport) => void;
  /** Polling period when IDLE is unavailable (default 30 s). */
  pollMs?: number;
  maxBackoffMs?: number;
}

/**
 * Keeps a session open on INBOX: IMAP IDLE (polling fallback when the server has no IDLE or refuses it),
 * sync on every new message, reconnect with exponential backoff when the session drops (server restart,
 * network cut, operator ending the session at token expiry) — with a fresh token, silently. Every
 * (re)connection starts with a sync, so what arrived while disconnected is caught up.
 */
export function watchInbox(sync: InboxSync, account: MailAccountConfig, ctx: MailContext, opts: WatchOptions = {}): Watcher {
  let stopped = false;
  let client: ImapFlow | undefined;
  let reconnects = 0;
  let mode: Watcher['mode'] = 'connecting';
  let readyResolve: () => void = () => {};
  let readyPromise = new Promise<void>((r) => (readyResolve = r));
  let wake: (() => void) | undefined;
  const pollMs = opts.pollMs ?? 30_000;
  const loop = async () => {
    let failures = 0;
    while (!stopped) {
      try {
        client = await openImap(account, ctx, { fresh: failures > 0 });
        failures = 0;
        const c = client;
        let dirty = true;
        c.on('exists', () => {
          dirty = true;
          wake?.();
        });
        const closed = new Promise<void>((resolve) => c.once('close', () => resolve()));
        let useIdle = c.capabilities.has('IDLE');
        mode = useIdle ? 'idle' : 'polling';
        while (!stopped && c.usable) {
          if (dirty) {
            dirty = false;
            const r = await sync.syncWith(c, account, 'INBOX', opts.onMessage);
            opts.onSynced?.(r);
          }
          readyResolve();
          if (stopped || !c.usable) break;
          const woken = new Promise<void>((r) => (wake = r));
          if (useIdle) {
            const idle = c.idle().then(
              () => undefined,
              (err: unknown) => err,
            );
            const r = await Promise.race([idle, closed, woken]);
            if (r instanceof Error && c.usable) {
              // The server refused IDLE on an otherwise healthy session: poll instead.
              useIdle = false;
              mode = 'polling';
            }
          } else {
            await Promise.race([new Promise<void>((r) => setTimeout(r, pollMs)), closed, woken]);
            if (stopped || !c.usable) break;
            // NOOP lets the server announce what arrived (EXISTS) before the next UID FETCH.
            await c.noop();
            dirty = true;
          }
        }
      } catch (err) {
        if (stopped) break;
        failures++;
        opts.onError?.(err);
      }
      if (stopped) break;
      reconnects++;
      mode = 'connecting';
      readyPromise = new Promise<void>((r) => (readyResolve = r));
      const delay = Math.min(opts.maxBackoffMs ?? 60_000, 200 * 2 ** Math.min(failures, 10));
      await new Promise((r) => setTimeout(r, delay));
    }
  };
  const running = loop();
  return {
    get reconnects() {
      return reconnects;
    },
    get mode() {
      return mode;
    },
    ready: () => readyPromise,
    async stop() {
      stopped = true;
      wake?.();
      await client?.logout().catch(() => client?.close());
      await running.catch(() => {});
    },
  };
}
