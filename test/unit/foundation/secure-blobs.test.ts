import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/main/store/database';
import { fileKeyProtector, loadDataKey, type KeyProtector } from '../../../src/main/store/key-protector';
import { SecureBlobStore } from '../../../src/main/store/secure-blobs';
import { tempDir } from '../../support/tmp';

describe('secure blob store', () => {
  const t = tempDir();
  const file = path.join(t.dir, 'lps.sqlite');
  const db = openDatabase(file);
  const key = loadDataKey(t.dir, fileKeyProtector);
  const store = new SecureBlobStore(db, key);
  const secret = 'Compte rendu : patient DUPONT-SECRETNAME, diagnostic confidentiel';
  afterAll(() => {
    db.close();
    t.cleanup();
  });

  it('never writes the body in clear and reads it back', () => {
    const id = store.put(secret);
    db.pragma('wal_checkpoint(TRUNCATE)');
    for (const f of [file, `${file}-wal`]) {
      if (fs.existsSync(f)) expect(fs.readFileSync(f).includes(Buffer.from('SECRETNAME'))).toBe(false);
    }
    expect(store.get(id).toString('utf8')).toBe(secret);
  });

  it('keeps the same data key across restarts', () => {
    const id = store.put('x');
    const again = new SecureBlobStore(db, loadDataKey(t.dir, fileKeyProtector));
    expect(again.get(id).toString()).toBe('x');
  });

  it('commits with the caller’s transaction, or not at all', () => {
    expect(() =>
      db.transaction(() => {
        store.put('orphan', 'tx-rolled-back');
        throw new Error('crash before the journal row');
      })(),
    ).toThrow();
    expect(store.has('tx-rolled-back')).toBe(false);
    db.transaction(() => store.put('kept', 'tx-committed'))();
    expect(store.get('tx-committed').toString()).toBe('kept');
  });

  it('detects a modified or swapped ciphertext', () => {
    const a = store.put('premier document', 'doc-a');
    store.put('second document', 'doc-b');
    const row = db.prepare('SELECT data FROM blobs WHERE id = ?').get(a) as { data: Buffer };
    const tampered = Buffer.from(row.data);
    tampered[0]! ^= 1;
    db.prepare('UPDATE blobs SET data = ? WHERE id = ?').run(tampered, a);
    expect(() => store.get(a)).toThrow(expect.objectContaining({ code: 'BLOB_CORRUPT' }));
    db.prepare("UPDATE blobs SET iv = (SELECT iv FROM blobs WHERE id = 'doc-b'), tag = (SELECT tag FROM blobs WHERE id = 'doc-b'), data = (SELECT data FROM blobs WHERE id = 'doc-b') WHERE id = ?").run(a);
    expect(() => store.get(a)).toThrow(expect.objectContaining({ code: 'BLOB_CORRUPT' }));
  });

  it('refuses malformed ids, and says when a blob is missing', () => {
    expect(() => store.put('x', '../evil')).toThrow(expect.objectContaining({ code: 'BLOB_ID_INVALID' }));
    expect(() => store.get('nope')).toThrow(expect.objectContaining({ code: 'BLOB_NOT_FOUND' }));
  });

  it('wraps the data key with the given protector', () => {
    const u = tempDir();
    const xor: KeyProtector = { kind: 'os-keychain', wrap: (k) => Buffer.from(k.map((x) => x ^ 0xaa)), unwrap: (w) => Buffer.from(w.map((x) => x ^ 0xaa)) };
    const k1 = loadDataKey(u.dir, xor);
    const stored = fs.readFileSync(path.join(u.dir, 'keys', 'data-key.os-keychain'));
    expect(stored.equals(k1)).toBe(false);
    expect(loadDataKey(u.dir, xor).equals(k1)).toBe(true);
    u.cleanup();
  });
});
