import fs from 'node:fs';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { DEFAULT_NIL } from '../core/handlers';
import type { PscClient } from '../identity/psc/psc-client';
import { pscPasswordLogin } from '../identity/psc/test-login';
import { identityRuntime } from '../identity/runtime';
import { PatientRepository } from '../patients/repository';
import { CredentialProvider, MailAccountConfig, pscTokenSource, type MailTrust, type TokenSource } from './accounts';
import { documentsPort } from './documents-port';
import { InboxSync, watchInbox, type Watcher, type WatchOptions } from './inbox-sync';
import { inlineReader, MailReadPool, readWorkerCount, SETTING_READ_WORKERS } from './mail-read-pool';
import { buildMdn } from './mdn';
import { buildDocumentMessage } from './message-build';
import { Outbox, type OutboxItem } from './outbox';
import { Reception, type MessageOutcome } from './reception';
import type { MailContext } from './transport';

/** Sender OID used as XDM sourceId until the structure's own is configured (setting `mssante.sourceId`). */
export const DEFAULT_SOURCE_OID = '1.2.250.1.213.1.4.2.99.1';

interface ProfileMail {
  accounts: MailAccountConfig[];
  trust: MailTrust;
  patients?: unknown[];
}

/**
 * The MSSanté capability for one Core: accounts of the active profile, the outbox, reception and the
 * watchers. Token source, in this order: one set with `setTokenSource` (tests, embedders), else the app's
 * Pro Santé Connect session (identity runtime's PscClient, after `identity.psc.login`), else — in the
 * sandbox only — a test login on the sandbox PSC provider, else the sandbox test password.
 */
export class MssanteService {
  readonly outbox: Outbox;
  readonly reception: Reception;
  private readPool: MailReadPool | undefined;
  readonly sync: InboxSync;
  readonly patients: PatientRepository;
  private tokenSource?: TokenSource;
  private readonly watchers = new Map<string, Watcher>();
  private readonly ctx: MailContext;

  constructor(private readonly core: Core) {
    this.patients = new PatientRepository(core.db);
    this.ctx = {
      trust: { caFiles: [] },
      credentials: new CredentialProvider((account, opts) => this.token(account, opts)),
      onAuth: (account, e) => {
        if (e.outcome !== 'success') core.audit.append({ actor: account, action: `mssante.auth.${e.protocol}.${e.outcome}`, subject: account, outcome: e.outcome === 'failure' ? 'failure' : 'info', details: { method: e.method, detail: e.detail ?? null } });
      },
    };
    // `credentials` must report whether a token source exists: wrap so that it reflects the current state.
    const self = this;
    this.ctx.credentials = new (class extends CredentialProvider {
      override hasTokenSource(): boolean {
        return !!self.tokenSource || !!self.identityPsc() || self.sandboxPsc() !== undefined;
      }
    })((account, opts) => this.token(account, opts));
    this.outbox = new Outbox(core.db, core.blobs, core.audit, (a) => this.account(a), this.ctx);
    this.reception = new Reception({ db: core.db, blobs: core.blobs, audit: core.audit, patients: this.patients, outbox: this.outbox, documents: documentsPort, nil: () => this.nil() });
    const readers = { inline: inlineReader(documentsPort), pool: () => this.readers() };
    this.sync = new InboxSync(core.db, this.reception, this.ctx, readers);
    core.onClose(async () => {
      await this.readPool?.close();
      for (const w of this.watchers.values()) await w.stop();
      this.watchers.clear();
      await this.sandboxClient?.logout({ browser: false }).catch(() => {});
    });
  }

  /**
   * The reading workers for a large sync (`readWorkerCount`), started now; undefined when this machine reads on the
   * main thread. A changed setting takes effect once the current pool has nothing in progress.
   */
  private readers(): MailReadPool | undefined {
    const n = readWorkerCount(undefined, this.core.settings.get<unknown>(SETTING_READ_WORKERS));
    if (this.readPool && this.readPool.size !== n && !this.readPool.busy) {
      void this.readPool.close();
      this.readPool = undefined;
    }
    if (!this.readPool && n === 0) return undefined;
    return (this.readPool ??= new MailReadPool(n)).warm();
  }

  nil(): string {
    return this.core.settings.get<string>('mssante.nil', DEFAULT_NIL);
  }

  setTokenSource(source: TokenSource | undefined): void {
    this.tokenSource = source;
  }

  private sandboxClient?: PscClient;

  private sandboxPsc(): { issuer: string; clientId: string; practitioner: { login: string; password: string; email?: string } } | undefined {
    if (this.core.profiles.state(false).active !== 'sandbox') return undefined;
    const p = this.core.sandbox.status() as { psc?: { issuer: string; clientId: string; practitioner: { login: string; password: string; email?: string } } };
    return p.psc?.practitioner?.password ? p.psc : undefined;
  }

  /** The app's Pro Santé Connect session (identity capability), when the practitioner is logged in. */
  private identityPsc(): { accessToken(): Promise<string>; refresh(): Promise<void> } | undefined {
    try {
      const psc = identityRuntime(this.core).psc();
      return psc.session() ? psc : undefined;
    } catch {
      return undefined; // PSC not configured in this profile
    }
  }

  private async token(account: MailAccountConfig, opts: { fresh: boolean }): Promise<string> {
    if (this.tokenSource) return this.tokenSource(account, opts);
    const session = this.identityPsc();
    if (session) return pscTokenSource(session)(account, opts);
    const psc = this.sandboxPsc();
    if (!psc) throw new AppError('MSS_PSC_REQUIRED', 'Connectez-vous avec Pro Santé Connect pour ouvrir cette boîte aux lettres.', `${account.address}: no PSC session`);
    // Sandbox only: a PSC session opened with the test practitioner's login, refreshed like a real one.
    if (this.sandboxClient) {
      try {
        return await pscTokenSource(this.sandboxClient)(account, opts);
      } catch {
        this.sandboxClient = undefined; // refresh refused: log in again
      }
    }
    const r = await pscPasswordLogin(psc);
    this.sandboxClient = r.client;
    return r.accessToken;
  }

  /** Accounts + trust of the active profile (sandbox profile file, or the production configuration). */
  private profileMail(): ProfileMail {
    const active = this.core.profiles.state(false).active;
    if (active === 'sandbox') {
      const p = this.core.sandbox.status() as { accounts?: unknown[]; mail?: { caFiles?: string[]; crlFiles?: string[] }; patients?: unknown[] };
      const accounts = (p.accounts ?? []).map((a) => MailAccountConfig.parse({ ...(a as object), sandbox: true }));
      return { accounts, trust: { caFiles: p.mail?.caFiles ?? [], crlFiles: p.mail?.crlFiles }, patients: p.patients };
    }
    const prod = this.core.profiles.getProduction() as { mssante?: { accounts?: unknown[]; caFiles?: string[]; crlFiles?: string[] } } | undefined;
    const accounts = (prod?.mssante?.accounts ?? []).map((a) => MailAccountConfig.parse({ ...(a as object), sandbox: false }));
    return { accounts, trust: { caFiles: prod?.mssante?.caFiles ?? [], crlFiles: prod?.mssante?.crlFiles } };
  }

  accounts(): MailAccountConfig[] {
    const pm = this.profileMail();
    this.ctx.trust = pm.trust;
    return pm.accounts;
  }

  account(address: string): MailAccountConfig {
    const a = this.accounts().find((x) => x.address === address.toLowerCase());
    if (!a) throw new AppError('MSS_ACCOUNT_UNKNOWN', "Cette boîte aux lettres n'est pas configurée dans le profil actif.", address);
    return a;
  }

  /** The sandbox's receiving side knows its test patients: import them into the local registry once. */
  ensureSandboxPatients(): void {
    const pm = this.profileMail();
    // Profile entries are shared with other sandbox services (the DMP adds its own fields): keep the identity.
    const FIELDS = ['ins', 'insOid', 'insQualified', 'birthFamily', 'birthGivens', 'firstGiven', 'usedFamily', 'usedGiven', 'gender', 'birthDate', 'birthPlace', 'ipp', 'ippOid'];
    for (const raw of pm.patients ?? []) {
      const p = raw as Record<string, unknown> & { ins?: string; insOid?: string };
      if (p.ins && p.insOid && this.patients.findByIns(p.ins, p.insOid)) continue;
      try {
        this.patients.upsert(Object.fromEntries(Object.entries(p).filter(([k]) => FIELDS.includes(k))) as never, 'sandbox');
      } catch {
        /* a malformed profile entry is not fatal */
      }
    }
  }

  async send(input: {
    from: string;
    to: string[];
    cc?: string[];
    cdaFiles?: string[];
    /** CDA documents given in memory (Y mode: never written in clear to disk), after `cdaFiles`. */
    cdaBytes?: Buffer[];
    /** Outbox id chosen by the caller, so that a retried send finds its message instead of queuing another. */
    outboxId?: string;
    subject?: string;
    body?: string;
    ack: { delivery: boolean; read: boolean };
    toPatient: boolean;
    closePatientChannel: boolean;
    action?: 'C' | 'D';
    sendNow: boolean;
  }): Promise<OutboxItem> {
    const account = this.account(input.from);
    const docs = documentsPort();
    const cdas = (input.cdaFiles ?? []).map((f) => {
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(f);
      } catch (err) {
        throw new AppError('MSS_CDA_UNREADABLE', `Le fichier ${f} n'a pas pu être lu.`, (err as Error).message);
      }
      return docs.parseCda(bytes);
    });
    for (const bytes of input.cdaBytes ?? []) cdas.push(docs.parseCda(bytes));
    if (!cdas.length) throw new AppError('MSS_NO_DOCUMENT', 'Joignez au moins un document CDA à envoyer.', 'no cdaFiles');
    const built = await buildDocumentMessage({
      from: account.address,
      to: input.to,
      cc: input.cc,
      cdas,
      subject: input.subject,
      body: input.body,
      ack: input.ack,
      nil: this.nil(),
      toPatient: input.toPatient,
      closePatientChannel: input.closePatientChannel,
      sourceId: this.core.settings.get<string>('mssante.sourceId', DEFAULT_SOURCE_OID),
      senderName: account.displayName,
      action: input.action,
    });
    const item = this.outbox.enqueue({ ...(input.outboxId ? { id: input.outboxId } : {}), account: account.address, kind: 'document', built, dsn: input.ack.delivery, meta: { documents: built.documents, patient: built.patient ?? null, ack: input.ack, action: input.action ?? null } });
    if (!input.sendNow) return item;
    const [sent] = await this.outbox.flush({ ids: [item.id] });
    return sent ?? this.outbox.get(item.id);
  }

  async syncAccount(address: string, onMessage?: (o: MessageOutcome) => void): Promise<{ report: Awaited<ReturnType<InboxSync['syncOnce']>>; mdnsSent: OutboxItem[] }> {
    const account = this.account(address);
    if (account.sandbox) this.ensureSandboxPatients();
    this.core.audit.append({ actor: account.address, action: 'mssante.sync.start', subject: account.address, outcome: 'info', details: {} });
    const report = await this.sync.syncOnce(account, {
      onMessage: (o) => {
        this.notify(o);
        onMessage?.(o);
      },
    });
    const mdnIds = report.messages.map((m) => m.mdn?.outboxId).filter((x): x is string => !!x);
    // MDNs (and anything else due for this account) leave now; failures stay queued for the next flush.
    const flushed = await this.outbox.flush({ account: account.address }).catch(() => [] as OutboxItem[]);
    const mdnsSent = mdnIds.map((id) => flushed.find((f) => f.id === id) ?? this.outbox.get(id));
    this.core.audit.append({ actor: account.address, action: 'mssante.sync.done', subject: account.address, outcome: 'success', details: { examined: report.examined, processed: report.messages.length, mdns: mdnsSent.length, readOn: report.readOn } });
    return { report, mdnsSent };
  }

  private notify(o: MessageOutcome): void {
    const integrated = o.documents.filter((d) => d.result === 'integrated');
    if (integrated.length) {
      this.core.events.emit('notification', {
        level: 'success',
        title: integrated.length > 1 ? `${integrated.length} nouveaux documents intégrés` : 'Nouveau document intégré',
        body: integrated.map((d) => d.title ?? d.documentId).join(', '),
      });
    }
    const queued = o.documents.filter((d) => d.result === 'queued');
    if (queued.length) this.core.events.emit('notification', { level: 'warning', title: 'Document à rattacher manuellement', body: queued.map((d) => d.title ?? d.documentId).join(', ') });
  }

  /** Keeps a watcher (IDLE, reconnect) per account. */
  watch(address: string, options: Pick<WatchOptions, 'pollMs' | 'maxBackoffMs'> = {}): Watcher {
    const existing = this.watchers.get(address);
    if (existing) return existing;
    const account = this.account(address);
    if (account.sandbox) this.ensureSandboxPatients();
    const w = watchInbox(this.sync, account, this.ctx, {
      ...options,
      onMessage: (o) => this.notify(o),
      onSynced: () => void this.outbox.flush({ account: account.address }).catch(() => {}),
      onError: (err) => this.core.audit.append({ actor: account.address, action: 'mssante.watch.reconnect', subject: account.address, outcome: 'info', details: { error: (err as Error).message?.slice(0, 200) } }),
    });
    const stop = w.stop.bind(w);
    const handle: Watcher = Object.defineProperties(w, {
      stop: {
        value: async () => {
          if (this.watchers.get(address) === handle) this.watchers.delete(address);
          await stop();
        },
      },
    });
    this.watchers.set(address, handle);
    return handle;
  }

  async readMdn(address: string, messageId: string): Promise<OutboxItem> {
    const account = this.account(address);
    const row = this.core.db.prepare('SELECT subject, mdn_requested_to, mdn_manual_sent FROM mss_journal WHERE account = ? AND message_id = ? LIMIT 1').get(account.address, messageId) as
      | { subject: string | null; mdn_requested_to: string | null; mdn_manual_sent: number }
      | undefined;
    if (!row) throw new AppError('MSS_MESSAGE_UNKNOWN', "Ce message n'a pas été reçu dans cette boîte.", messageId);
    if (!row.mdn_requested_to) throw new AppError('MSS_MDN_NOT_REQUESTED', "L'expéditeur n'a pas demandé d'accusé de lecture pour ce message.", messageId);
    if (row.mdn_manual_sent) throw new AppError('MSS_MDN_ALREADY_SENT', "L'accusé de lecture de ce message a déjà été envoyé.", messageId);
    const mdn = buildMdn({ reporter: account.address, to: row.mdn_requested_to, originalMessageId: messageId, originalSubject: row.subject ?? '', outcome: { kind: 'displayed' }, nil: this.nil() });
    const item = this.core.db.transaction(() => {
      this.core.db.prepare('UPDATE mss_journal SET mdn_manual_sent = 1 WHERE account = ? AND message_id = ?').run(account.address, messageId);
      return this.outbox.enqueue({ account: account.address, kind: 'mdn', built: { raw: mdn.raw, messageId: mdn.messageId, subject: mdn.subject, recipients: [row.mdn_requested_to!], headers: {}, documents: [] }, meta: { inReplyTo: messageId, manual: true } });
    })();
    const [sent] = await this.outbox.flush({ ids: [item.id] });
    return sent ?? this.outbox.get(item.id);
  }
}

const services = new WeakMap<Core, MssanteService>();

export function mssanteOf(core: Core): MssanteService {
  let s = services.get(core);
  if (!s) {
    s = new MssanteService(core);
    services.set(core, s);
  }
  return s;
}
