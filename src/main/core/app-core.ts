import type Database from 'better-sqlite3';
import { AuditTrail } from '../audit/audit-trail';
import { SandboxManager } from '../sandbox/manager';
import type { SandboxService } from '../sandbox/service';
import { openDatabase } from '../store/database';
import { fileKeyProtector, loadDataKey, type KeyProtector } from '../store/key-protector';
import { storePath } from '../store/paths';
import { ProfileRepository } from '../store/profiles';
import { SecureBlobStore } from '../store/secure-blobs';
import { SettingsRepository } from '../store/settings';
import type { StreamScheme } from '../../shared/security';
import { EventBus } from './events';
import { HandlerRegistry } from './registry';

export type Runtime = 'electron' | 'harness' | 'node';

/**
 * The headless core shared by the Electron app, the browser harness, the CLI and the tests: the store,
 * the audit trail, the event bus and the handler registry. Nothing here imports `electron`.
 */
export interface Core {
  runtime: Runtime;
  dataDir: string;
  db: Database.Database;
  settings: SettingsRepository;
  profiles: ProfileRepository;
  audit: AuditTrail;
  events: EventBus;
  registry: HandlerRegistry;
  sandbox: SandboxManager;
  /** Document bodies at rest, encrypted (never stored in clear). */
  blobs: SecureBlobStore;
  /**
   * Handlers of the streaming schemes (`STREAM_SCHEMES`): a capability registers one with `registerStream`;
   * Electron serves it as a custom protocol, the harness under `/__lps/stream/<scheme>/`.
   */
  streams: Map<string, StreamHandler>;
  registerStream(scheme: StreamScheme, handler: StreamHandler): void;
  /** Extra version strings shown in "À propos" (Electron adds its own). */
  versions: Record<string, string>;
  /** Closers registered by capabilities (servers, IMAP sessions…), run in reverse order by `close`. */
  onClose(fn: () => Promise<void> | void): void;
  close(): Promise<void>;
}

/** Fetch-style handler of a streaming scheme; the request URL is `<scheme>://<path>`. */
export type StreamHandler = (request: Request) => Promise<Response>;

export interface CoreOptions {
  dataDir: string;
  runtime: Runtime;
  versions?: Record<string, string>;
  sandboxServices?: SandboxService[];
  /** How the data key is protected: Electron passes its safeStorage protector; plain Node uses a 0600 file. */
  keyProtector?: KeyProtector;
}

export function createCoreBase(opts: CoreOptions): Core {
  const db = openDatabase(storePath(opts.dataDir));
  const settings = new SettingsRepository(db);
  const events = new EventBus();
  const audit = new AuditTrail(db);
  audit.onAppend((entry) => events.emit('audit.appended', entry));
  const closers: (() => Promise<void> | void)[] = [];
  const streams = new Map<string, StreamHandler>();
  let closed = false;
  return {
    runtime: opts.runtime,
    dataDir: opts.dataDir,
    db,
    settings,
    profiles: new ProfileRepository(db, settings),
    audit,
    events,
    registry: new HandlerRegistry(),
    sandbox: new SandboxManager({ dataDir: opts.dataDir, services: opts.sandboxServices }),
    blobs: new SecureBlobStore(db, loadDataKey(opts.dataDir, opts.keyProtector ?? fileKeyProtector)),
    versions: { node: process.versions.node, ...opts.versions },
    streams,
    registerStream(scheme, handler) {
      if (streams.has(scheme)) throw new Error(`stream handler already registered: ${scheme}`);
      streams.set(scheme, handler);
    },
    onClose: (fn) => closers.push(fn),
    async close() {
      if (closed) return;
      closed = true;
      for (const fn of closers.reverse()) await fn();
      db.close();
    },
  };
}
