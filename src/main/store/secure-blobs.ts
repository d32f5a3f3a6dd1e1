import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../core/errors';

const MAGIC = Buffer.from('LPSB1');
const IV_LEN = 12;
const TAG_LEN = 16;

/**
 * Document bodies at rest (received documents, outbox copies, generated CDA/PDF): AES-256-GCM, one file
 * per blob, written atomically (temp + fsync + rename) so a crash never leaves half a document. The
 * blob id is bound to the ciphertext (GCM additional data): a file renamed or swapped is detected.
 */
export class SecureBlobStore {
  constructor(
    private readonly dir: string,
    private readonly key: Buffer,
  ) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  put(data: Buffer | Uint8Array | string, id: string = crypto.randomUUID()): string {
    assertId(id);
    const iv = crypto.randomBytes(IV_LEN);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(id, 'utf8'));
    const body = Buffer.concat([cipher.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data), cipher.final()]);
    const file = this.file(id);
    const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, Buffer.concat([MAGIC, iv, cipher.getAuthTag(), body]));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    return id;
  }

  get(id: string): Buffer {
    assertId(id);
    let raw: Buffer;
    try {
      raw = fs.readFileSync(this.file(id));
    } catch (err) {
      throw new AppError('BLOB_NOT_FOUND', 'Le document demandé est introuvable dans le stockage local.', `blob ${id}: ${(err as Error).message}`);
    }
    if (raw.length < MAGIC.length + IV_LEN + TAG_LEN || !raw.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new AppError('BLOB_CORRUPT', 'Un document du stockage local est endommagé.', `blob ${id}: bad header`);
    }
    const iv = raw.subarray(MAGIC.length, MAGIC.length + IV_LEN);
    const tag = raw.subarray(MAGIC.length + IV_LEN, MAGIC.length + IV_LEN + TAG_LEN);
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, iv);
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(raw.subarray(MAGIC.length + IV_LEN + TAG_LEN)), decipher.final()]);
    } catch {
      throw new AppError('BLOB_CORRUPT', 'Un document du stockage local est endommagé ou a été modifié.', `blob ${id}: authentication failed`);
    }
  }

  has(id: string): boolean {
    assertId(id);
    return fs.existsSync(this.file(id));
  }

  delete(id: string): void {
    assertId(id);
    fs.rmSync(this.file(id), { force: true });
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}.blob`);
  }
}

function assertId(id: string): void {
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(id) || id.startsWith('.')) throw new Error(`invalid blob id: ${id.slice(0, 40)}`);
}
