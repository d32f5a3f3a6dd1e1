import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../../src/main/audit/audit-trail';
import { openDatabase } from '../../../src/main/store/database';
import { isAlive } from '../../../src/main/sandbox/processes';
import { runLps } from '../../support/cli';
import { tempDir } from '../../support/tmp';

describe('lps command line', () => {
  const tmp = tempDir();
  afterAll(async () => {
    await runLps(['sandbox', 'down'], { dataDir: tmp.dir });
    tmp.cleanup();
  });

  it('prints its help', async () => {
    const r = await runLps(['--help'], { dataDir: tmp.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/sandbox/);
    expect(r.stdout).toMatch(/audit/);
  });

  it('starts the sandbox, reports its profile, and stops it leaving no process', async () => {
    const up = await runLps(['sandbox', 'up', '--json'], { dataDir: tmp.dir, timeoutMs: 300_000 });
    expect(up.code, up.stderr).toBe(0);
    const status = await runLps(['sandbox', 'status', '--json'], { dataDir: tmp.dir });
    expect(status.code).toBe(0);
    const profile = JSON.parse(status.stdout) as { running: boolean; services: Record<string, { pids: number[]; running: boolean }>; mail?: { spoolDir?: string } };
    expect(profile.running).toBe(true);
    const pids = Object.values(profile.services).flatMap((s) => s.pids);
    for (const pid of pids) expect(isAlive(pid)).toBe(true);
    // The mailboxes and Postfix queue: in the data folder, or (as root, the data folder being private) in a
    // companion folder of the system temp dir, which `down` removes.
    const spool = profile.mail?.spoolDir;
    expect(spool && fs.existsSync(spool)).toBeTruthy();
    const down = await runLps(['sandbox', 'down'], { dataDir: tmp.dir, timeoutMs: 60_000 });
    expect(down.code, down.stderr).toBe(0);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
    if (!path.resolve(spool!).startsWith(path.resolve(tmp.dir) + path.sep)) expect(fs.existsSync(spool!)).toBe(false);
    const after = JSON.parse((await runLps(['sandbox', 'status', '--json'], { dataDir: tmp.dir })).stdout) as { running: boolean };
    expect(after.running).toBe(false);
  }, 400_000);

  it('verifies the audit chain, and fails naming the first altered row', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const fresh = await runLps(['audit', 'verify', '--json'], { dataDir: dir });
      expect(fresh.code).toBe(0);
      expect(JSON.parse(fresh.stdout)).toMatchObject({ ok: true, rows: 0 });

      const file = path.join(dir, 'lps.sqlite');
      const db = openDatabase(file);
      const audit = new AuditTrail(db);
      for (let i = 0; i < 4; i++) audit.append({ actor: 'test', action: 'test.row', subject: `s${i}`, outcome: 'info' });
      db.close();
      expect((await runLps(['audit', 'verify'], { dataDir: dir })).code).toBe(0);

      // Someone edits the SQLite file behind the application's back.
      const raw = new Database(file);
      raw.exec('DROP TRIGGER audit_no_update');
      raw.prepare("UPDATE audit SET actor = 'intrus' WHERE id = 3").run();
      raw.close();
      const broken = await runLps(['audit', 'verify'], { dataDir: dir });
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(/n° 3/);
    } finally {
      cleanup();
    }
  });
});
