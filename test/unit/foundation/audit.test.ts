import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditTrail, auditToCsv } from '../../../src/main/audit/audit-trail';
import { openDatabase, type Db } from '../../../src/main/store/database';

describe('audit trail', () => {
  let db: Db;
  let audit: AuditTrail;
  beforeEach(() => {
    db = openDatabase(':memory:');
    audit = new AuditTrail(db);
    for (let i = 1; i <= 5; i++) audit.append({ actor: 'dr.test', action: 'mssante.send', subject: `msg-${i}`, outcome: 'success', details: { n: i } });
  });
  afterEach(() => db.close());

  it('chains every row to the previous one and verifies', () => {
    const rows = db.prepare('SELECT id, prev_hash, hash FROM audit ORDER BY id').all() as { id: number; prev_hash: string; hash: string }[];
    expect(rows).toHaveLength(5);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
    expect(audit.verify()).toEqual({ ok: true, rows: 5 });
  });

  it('in a batch, keeps the chain head in memory and writes it once; a failed batch leaves neither rows nor head behind', () => {
    const heads: number[] = [];
    const headWrites = () => (db.prepare('SELECT last_id FROM audit_head').get() as { last_id: number }).last_id;
    const seen: number[] = [];
    audit.onAppend((e) => seen.push(e.id));
    audit.batch(() => {
      for (let i = 6; i <= 9; i++) {
        audit.append({ actor: 'dr.test', action: 'mssante.receive.message', subject: `msg-${i}`, outcome: 'success', details: { n: i, pin: '1234' } });
        heads.push(headWrites());
      }
      audit.batch(() => audit.append({ actor: 'dr.test', action: 'nested', outcome: 'info' })); // nested: same batch
    });
    expect(heads).toEqual([5, 5, 5, 5]); // not written at each entry…
    expect(headWrites()).toBe(10); // …but once, at the end
    expect(seen).toEqual([6, 7, 8, 9, 10]);
    expect(audit.verify()).toEqual({ ok: true, rows: 10 });
    expect(audit.list({ limit: 1 }).entries[0]!.details).toEqual({});
    expect(JSON.stringify(audit.list({ action: 'mssante.receive' }).entries.map((e) => e.details))).not.toContain('1234');
    // A batch that fails: rolled back whole, the next entries chain on the last committed one.
    expect(() =>
      audit.batch(() => {
        audit.append({ actor: 'dr.test', action: 'doomed', outcome: 'info' });
        throw new Error('commit failed');
      }),
    ).toThrow('commit failed');
    expect(headWrites()).toBe(10);
    expect(audit.append({ actor: 'dr.test', action: 'after', outcome: 'info' }).id).toBe(11);
    audit.batch(() => audit.append({ actor: 'dr.test', action: 'after-batch', outcome: 'info' }));
    expect(audit.verify()).toEqual({ ok: true, rows: 12 });
  });

  it('refuses UPDATE and DELETE from the application', () => {
    expect(() => db.prepare("UPDATE audit SET actor = 'x' WHERE id = 2").run()).toThrow(/append-only/);
    expect(() => db.prepare('DELETE FROM audit WHERE id = 2').run()).toThrow(/append-only/);
  });

  it('detects an edited row and names it', () => {
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare("UPDATE audit SET subject = 'forged' WHERE id = 3").run();
    const r = audit.verify();
    expect(r.ok).toBe(false);
    expect(r.brokenAt).toBe(3);
    expect(r.reason).toMatch(/modified/);
  });

  it('detects a row removed in the middle', () => {
    db.exec('DROP TRIGGER audit_no_delete');
    db.prepare('DELETE FROM audit WHERE id = 2').run();
    const r = audit.verify();
    expect(r).toMatchObject({ ok: false, brokenAt: 2 });
  });

  it('detects rows truncated from the end', () => {
    db.exec('DROP TRIGGER audit_no_delete');
    db.prepare('DELETE FROM audit WHERE id >= 4').run();
    const r = audit.verify();
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/removed from the end/);
  });

  it('detects a row whose hash was recomputed without relinking the next one', () => {
    db.exec('DROP TRIGGER audit_no_update');
    db.prepare("UPDATE audit SET subject = 'forged', hash = 'f00' WHERE id = 2").run();
    expect(audit.verify()).toMatchObject({ ok: false, brokenAt: 2 });
  });

  it('never stores secrets or document bodies', () => {
    audit.append({
      actor: 'dr.test',
      action: 'identity.login',
      outcome: 'success',
      details: { pin: '1234', accessToken: 'abc', nested: { documentBody: 'SECRET CLINICAL TEXT' }, note: 'Bearer eyJhbGciOi.eyJzdWIiOiJ4In0.sig' },
    });
    const raw = (db.prepare('SELECT details FROM audit ORDER BY id DESC LIMIT 1').get() as { details: string }).details;
    expect(raw).not.toContain('1234');
    expect(raw).not.toContain('abc');
    expect(raw).not.toContain('SECRET CLINICAL TEXT');
    expect(raw).not.toContain('eyJhbGciOi');
  });

  it('filters, pages and exports CSV for French spreadsheets', () => {
    audit.append({ actor: 'dr.autre', action: 'dmp.publish', subject: 'doc-1', outcome: 'failure' });
    expect(audit.list({ action: 'dmp.' }).total).toBe(1);
    expect(audit.list({ outcome: 'success' }).total).toBe(5);
    const page = audit.list({ limit: 2, offset: 1 });
    expect(page.entries.map((e) => e.id)).toEqual([5, 4]);
    const csv = auditToCsv(audit.list({ text: 'msg-2' }).entries);
    expect(csv.startsWith('\uFEFF"N°";"Date"')).toBe(true);
    expect(csv).toContain('"msg-2"');
    expect(csv.split('\r\n').filter(Boolean)).toHaveLength(2);
  });
});
