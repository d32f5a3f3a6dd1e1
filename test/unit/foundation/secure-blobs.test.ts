import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fileKeyProtector, loadDataKey, type KeyProtector } from '../../../src/main/store/key-protector';
import { SecureBlobStore } from '../../../src/main/store/secure-blobs';
import { tempDir } from '../../support/tmp';

describe('secure blob store', () => {
  const t = tempDir();
  afterEach(() => undefined);
  const key = loadDataKey(t.dir, fileKeyProtector);
  const store = new SecureBlobStore(path.join(t.dir, 'blobs'), key);
  const secret = 'Compte rendu : patient DUPONT, diagnostic confidentiel';

  it('never writes the body in clear and reads it back', () => {
    const id = store.put(secret);
    const raw = fs.readFileSync(path.join(t.dir, 'blobs', `${id}.blob`));
    expect(raw.includes(Buffer.from('DUPONT'))).toBe(false);
    expect(store.get(id).toString('utf8')).toBe(secret);
    expect(fs.statSync(path.join(t.dir, 'blobs', `${id}.blob`)).mode & 0o077).toBe(0);
  });

  it('keeps the same data key across restarts', () => {
    const id = store.put('x');
    const again = new SecureBlobStore(path.join(t.dir, 'blobs'), loadDataKey(t.dir, fileKeyProtector));
    expect(again.get(id).toString()).toBe('x');
  });

  it('detects a modified or swapped file', () => {
    const a = store.put('premier document');
    const b = store.put('second document');
    const fa = path.join(t.dir, 'blobs', `${a}.blob`);
    const bytes = fs.readFileSync(fa);
    bytes[bytes.length - 1]! ^= 1;
    fs.writeFileSync(fa, bytes);
    expect(() => store.get(a)).toThrow(expect.objectContaining({ code: 'BLOB_CORRUPT' }));
    fs.copyFileSync(path.join(t.dir, 'blobs', `${b}.blob`), fa);
    expect(() => store.get(a)).toThrow(expect.objectContaining({ code: 'BLOB_CORRUPT' }));
  });

  it('refuses ids that would escape its folder, and says when a blob is missing', () => {
    expect(() => store.put('x', '../evil')).toThrow(/invalid blob id/);
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
