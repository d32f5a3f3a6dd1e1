import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { AppError } from '../core/errors';
import { ALL_MIGRATIONS, type Migration } from './migrations';

export type Db = Database.Database;

/** Opens (creating if needed) the SQLite store and applies pending migrations. */
export function openDatabase(file: string, migrations: Migration[] = ALL_MIGRATIONS): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let db: Db;
  try {
    db = new Database(file);
  } catch (err) {
    throw new AppError('STORE_OPEN_FAILED', "La base de données locale n'a pas pu être ouverte.", `${file}: ${(err as Error).message}`, { cause: err });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  cacheStatements(db);
  migrate(db, migrations);
  return db;
}

const STATEMENT_CACHE_MAX = 512;

/**
 * Makes `db.prepare` reuse the compiled statement of a SQL text already seen (SQLite compiles a statement in
 * tens of microseconds; the hot paths — reception, audit, blobs — prepare the same few texts for every message).
 * A statement still busy (an open `iterate()`) is never handed out twice: the caller then gets a fresh one. The
 * project never switches a statement's mode (`pluck`/`raw`/`expand`/`safeIntegers`), which a shared statement
 * would otherwise carry over; dynamic SQL texts are bounded by clearing the cache when it is full.
 */
export function cacheStatements(db: Db): void {
  const prepare = db.prepare.bind(db) as (sql: string) => Database.Statement;
  const cache = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    const hit = cache.get(sql);
    if (hit && !hit.busy) return hit;
    const fresh = prepare(sql);
    if (!hit) {
      if (cache.size >= STATEMENT_CACHE_MAX) cache.clear();
      cache.set(sql, fresh);
    }
    return fresh;
  }) as Db['prepare'];
}

export function migrate(db: Db, migrations: Migration[]): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`);
  const done = new Set((db.prepare('SELECT id FROM schema_migrations').all() as { id: string }[]).map((r) => r.id));
  const ids = new Set<string>();
  const applied: string[] = [];
  for (const m of migrations) {
    if (ids.has(m.id)) throw new Error(`duplicate migration id ${m.id}`);
    ids.add(m.id);
    if (done.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)').run(m.id, new Date().toISOString());
    })();
    applied.push(m.id);
  }
  return applied;
}
