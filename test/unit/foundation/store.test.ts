import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '../../../src/main/store/database';
import { ALL_MIGRATIONS } from '../../../src/main/store/migrations';
import { resolveDataDir } from '../../../src/main/store/paths';
import { SettingsRepository } from '../../../src/main/store/settings';
import { tempDir } from '../../support/tmp';

describe('store', () => {
  it('applies each migration once, in order, and records it', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'x.sqlite');
      const db = openDatabase(file);
      const ids = (db.prepare('SELECT id FROM schema_migrations ORDER BY rowid').all() as { id: string }[]).map((r) => r.id);
      expect(ids).toEqual(ALL_MIGRATIONS.map((m) => m.id));
      expect(migrate(db, ALL_MIGRATIONS)).toEqual([]);
      db.close();
      // Reopening applies nothing again and keeps data.
      const db2 = openDatabase(file);
      new SettingsRepository(db2).set('k', { a: 1 });
      expect(new SettingsRepository(db2).get('k')).toEqual({ a: 1 });
      db2.close();
    } finally {
      cleanup();
    }
  });

  it('rolls back a failing migration entirely', () => {
    const db = openDatabase(':memory:');
    expect(() => migrate(db, [{ id: 'x/001-bad', sql: 'CREATE TABLE t1 (a); CREATE TABLE t1 (a);' }])).toThrow();
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 't1'").get()).toBeUndefined();
    expect(db.prepare("SELECT id FROM schema_migrations WHERE id = 'x/001-bad'").get()).toBeUndefined();
  });

  it('resolves the per-OS data directory like Electron userData, overridable', () => {
    expect(resolveDataDir({ LPS_DATA_DIR: '/tmp/abc' }, 'linux')).toBe('/tmp/abc');
    expect(resolveDataDir({ XDG_CONFIG_HOME: '/x' }, 'linux')).toBe('/x/Compagnon LPS');
    expect(resolveDataDir({ APPDATA: 'C:/Users/u/AppData/Roaming' }, 'win32')).toMatch(/Roaming[\\/]Compagnon LPS$/);
    expect(resolveDataDir({}, 'darwin')).toMatch(/Library\/Application Support\/Compagnon LPS$/);
  });

  it('creates the database file private to the user', () => {
    const { dir, cleanup } = tempDir();
    try {
      const sub = path.join(dir, 'data');
      openDatabase(path.join(sub, 'lps.sqlite')).close();
      expect(fs.statSync(sub).mode & 0o077).toBe(0);
    } finally {
      cleanup();
    }
  });

  it('reuses compiled statements, but never one still iterating', () => {
    const db = openDatabase(':memory:', []);
    try {
      db.exec('CREATE TABLE t (n INTEGER)');
      const ins = db.prepare('INSERT INTO t (n) VALUES (?)');
      expect(db.prepare('INSERT INTO t (n) VALUES (?)')).toBe(ins);
      for (let i = 0; i < 3; i++) ins.run(i);
      // Nested use of the same SQL text while an iterator is open: a fresh statement, correct results.
      const seen: number[] = [];
      for (const row of db.prepare('SELECT n FROM t ORDER BY n').iterate() as IterableIterator<{ n: number }>) {
        const inner = db.prepare('SELECT n FROM t ORDER BY n').all() as { n: number }[];
        expect(inner.map((r) => r.n)).toEqual([0, 1, 2]);
        seen.push(row.n);
      }
      expect(seen).toEqual([0, 1, 2]);
    } finally {
      db.close();
    }
  });
});
