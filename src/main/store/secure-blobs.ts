import crypto from 'node:crypto';
import { AppError } from '../core/errors';
import type { Db } from './database';
import type { Migration } from './migrations';

const IV_LEN = 12;
const IV_POOL = 4096 - (4096 % IV_LEN);

/** Random IVs drawn from one CSPRNG fill per 341 of them (a `randomBytes` call per blob was a visible cost). */
let ivPool = Buffer.alloc(0);
let ivAt = 0;
function randomIv(): Buffer {
  if (ivAt + IV_LEN > ivPool.length) {
    ivPool = crypto.randomFillSync(Buffer.allocUnsafe(IV_POOL));
    ivAt = 0;
  }
  const iv = Buffer.from(ivPool.subarray(ivAt, ivAt + IV_LEN));
  ivAt += IV_LEN;
  return iv;
}
const FORMAT = 1;

export const blobMigrations: Migration[] = [
  {
    id: 'foundation/003-blobs',
    sql: `
      CREATE TABLE blobs (
        id TEXT PRIMARY KEY,
        format INTEGER NOT NULL,
        iv BLOB NOT NULL,
        tag BLOB NOT NULL,
        data BLOB NOT NULL,
        created_at TEXT NOT NULL
      );
    `,
  },
];

/**
 * Document bodies at rest (received documents, outbox copies, generated CDA/PDF, secrets): AES-256-GCM,
 * stored in the app database. A `put` made inside a caller's transaction commits with it — the body, the
 * journal row that references it and the audit row land together or not at all, with one fsync. The blob
 * id is bound to the ciphertext (GCM additional data): a row swapped under another id is detected.
 */
export class SecureBlobStore {
  private readonly insert;
  private readonly select;
  private readonly exists;
  private readonly remove;

  constructor(
    db: Db,
    private readonly key: Buffer,
  ) {
    if (key.length !== 32) throw new Error('the blob key must be 256 bits');
    this.insert = db.prepare(
      'INSERT OR REPLACE INTO blobs (id, format, iv, tag, data, created_at) VALUES (@id, @format, @iv, @tag, @data, @created_at)',
    );
    this.select = db.prepare('SELECT format, iv, tag, data FROM blobs WHERE id = ?');
    this.exists = db.prepare('SELECT 1 FROM blobs WHERE id = ?');
    this.remove = db.prepare('DELETE FROM blobs WHERE id = ?');
  }

  put(data: Buffer | Uint8Array | string, id: string = crypto.randomUUID()): string {
    assertId(id);
    const iv = randomIv();
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(id, 'utf8'));
    const body = Buffer.concat([cipher.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data), cipher.final()]);
    this.insert.run({ id, format: FORMAT, iv, tag: cipher.getAuthTag(), data: body, created_at: new Date().toISOString() });
    return id;
  }

  get(id: string): Buffer {
    assertId(id);
    const row = this.select.get(id) as { format: number; iv: Buffer; tag: Buffer; data: Buffer } | undefined;
    if (!row) throw new AppError('BLOB_NOT_FOUND', 'Le document demandé est introuvable dans le stockage local.', `blob ${id}`);
    if (row.format !== FORMAT) throw new AppError('BLOB_CORRUPT', 'Un document du stockage local est endommagé.', `blob ${id}: format ${row.format}`);
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, row.iv);
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(row.tag);
    try {
      return Buffer.concat([decipher.update(row.data), decipher.final()]);
    } catch {
      throw new AppError('BLOB_CORRUPT', 'Un document du stockage local est endommagé ou a été modifié.', `blob ${id}: authentication failed`);
    }
  }

  has(id: string): boolean {
    assertId(id);
    return this.exists.get(id) !== undefined;
  }

  delete(id: string): void {
    assertId(id);
    this.remove.run(id);
  }
}

function assertId(id: string): void {
  if (!/^[A-Za-z0-9._:-]{1,160}$/.test(id)) throw new AppError('BLOB_ID_INVALID', 'Identifiant de document local invalide.', `invalid blob id: ${id.slice(0, 40)}`);
}
