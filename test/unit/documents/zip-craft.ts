/** Hand-made zip files for hostile-archive tests (names and sizes no zip library would let us write). */
import zlib from 'node:zlib';

export interface CraftEntry {
  name: string;
  data?: Buffer;
  deflate?: boolean;
  /** Lie about the uncompressed size in the headers. */
  declaredSize?: number;
  /** The name's bytes as given, without the UTF-8 flag (a legacy code-page name). */
  legacyName?: Buffer;
  /** Extra fields, in both headers. */
  extra?: Buffer;
}

/** Options of the whole archive: its comment, bytes after it. */
export interface CraftOptions {
  comment?: string;
  trailing?: Buffer;
}

export function craftZip(entries: CraftEntry[], opts: CraftOptions = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const data = e.data ?? Buffer.alloc(0);
    const comp = e.deflate ? zlib.deflateRawSync(data) : data;
    const crc = zlib.crc32(data);
    const name = e.legacyName ?? Buffer.from(e.name, 'utf8');
    const flag = e.legacyName ? 0 : 0x0800;
    const extra = e.extra ?? Buffer.alloc(0);
    const size = e.declaredSize ?? data.length;
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(flag, 6);
    lh.writeUInt16LE(e.deflate ? 8 : 0, 8);
    lh.writeUInt32LE(crc, 14);
    lh.writeUInt32LE(comp.length, 18);
    lh.writeUInt32LE(size, 22);
    lh.writeUInt16LE(name.length, 26);
    lh.writeUInt16LE(extra.length, 28);
    locals.push(lh, name, extra, comp);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(flag, 8);
    ch.writeUInt16LE(e.deflate ? 8 : 0, 10);
    ch.writeUInt32LE(crc, 16);
    ch.writeUInt32LE(comp.length, 20);
    ch.writeUInt32LE(size, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt16LE(extra.length, 30);
    ch.writeUInt32LE(offset, 42);
    centrals.push(ch, name, extra);
    offset += 30 + name.length + extra.length + comp.length;
  }
  const cd = Buffer.concat(centrals);
  const tail: Buffer[] = [];
  const many = entries.length > 0xfffe;
  if (many) {
    const z = Buffer.alloc(56);
    z.writeUInt32LE(0x06064b50, 0);
    z.writeBigUInt64LE(44n, 4);
    z.writeUInt16LE(45, 12);
    z.writeUInt16LE(45, 14);
    z.writeBigUInt64LE(BigInt(entries.length), 24);
    z.writeBigUInt64LE(BigInt(entries.length), 32);
    z.writeBigUInt64LE(BigInt(cd.length), 40);
    z.writeBigUInt64LE(BigInt(offset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(offset + cd.length), 8);
    loc.writeUInt32LE(1, 16);
    tail.push(z, loc);
  }
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(many ? 0xffff : entries.length, 8);
  eocd.writeUInt16LE(many ? 0xffff : entries.length, 10);
  eocd.writeUInt32LE(cd.length, 12);
  eocd.writeUInt32LE(offset, 16);
  const comment = Buffer.from(opts.comment ?? '', 'latin1');
  eocd.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...locals, cd, ...tail, eocd, comment, opts.trailing ?? Buffer.alloc(0)]);
}
