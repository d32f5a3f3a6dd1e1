import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * On-disk cache of retrieved images with a size cap (least recently used evicted first). Entries are
 * health data: each is sealed with AES-256-GCM. The key is given by the caller (Electron derives a stable
 * one through safeStorage); without one, a random per-process key is used, so the cache lives for the
 * session only and entries left by an earlier process are unreadable and purged.
 */
export class DiskCache {
  private readonly index = new Map<string, { size: number; used: number }>();
  private total = 0;
  private clock = 0;
  private readonly key: Buffer;

  constructor(
    readonly dir: string,
    readonly maxBytes: number,
    key?: Buffer,
  ) {
    this.key = key ?? crypto.randomBytes(32);
    if (this.key.length !== 32) throw new Error('cache key must be 32 bytes');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of fs.readdirSync(dir)) {
      const file = path.join(dir, name);
      if (!/^[0-9a-f]{64}$/.test(name)) {
        fs.rmSync(file, { force: true }); // temporaries of an interrupted write
        continue;
      }
      const st = fs.statSync(file);
      this.index.set(name, { size: st.size, used: st.mtimeMs });
      this.total += st.size;
    }
    // Recency is a logical clock (two uses within one millisecond stay ordered), seeded from the files' times.
    for (const e of [...this.index.values()].sort((a, b) => a.used - b.used)) e.used = ++this.clock;
    this.evict();
  }

  private name(key: string): string {
    return crypto.createHmac('sha256', this.key).update(key).digest('hex');
  }

  get size(): number {
    return this.total;
  }

  get(key: string): Buffer | undefined {
    const name = this.name(key);
    const entry = this.index.get(name);
    if (!entry) return undefined;
    const file = path.join(this.dir, name);
    try {
      const sealed = fs.readFileSync(file);
      const iv = sealed.subarray(0, 12);
      const tag = sealed.subarray(12, 28);
      const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, iv);
      decipher.setAuthTag(tag);
      decipher.setAAD(Buffer.from(name));
      const plain = Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
      entry.used = ++this.clock;
      const t = new Date();
      fs.utimes(file, t, t, () => {});
      return plain;
    } catch {
      this.remove(name); // unreadable (other key, corrupted): drop it
      return undefined;
    }
  }

  put(key: string, value: Buffer): void {
    const sealedSize = value.length + 28;
    if (sealedSize > this.maxBytes) return;
    const name = this.name(key);
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(name));
    const body = Buffer.concat([cipher.update(value), cipher.final()]);
    const sealed = Buffer.concat([iv, cipher.getAuthTag(), body]);
    const tmp = path.join(this.dir, `${name}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, sealed, { mode: 0o600 });
    fs.renameSync(tmp, path.join(this.dir, name));
    const old = this.index.get(name);
    if (old) this.total -= old.size;
    this.index.set(name, { size: sealed.length, used: ++this.clock });
    this.total += sealed.length;
    this.evict();
  }

  private remove(name: string): void {
    const e = this.index.get(name);
    if (!e) return;
    this.index.delete(name);
    this.total -= e.size;
    fs.rmSync(path.join(this.dir, name), { force: true });
  }

  private evict(): void {
    if (this.total <= this.maxBytes) return;
    const byAge = [...this.index.entries()].sort((a, b) => a[1].used - b[1].used);
    for (const [name] of byAge) {
      if (this.total <= this.maxBytes) break;
      this.remove(name);
    }
  }

  clear(): void {
    for (const name of [...this.index.keys()]) this.remove(name);
  }
}
