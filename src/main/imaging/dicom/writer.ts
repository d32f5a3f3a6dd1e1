import crypto from 'node:crypto';
import { LONG_VRS, T, TS } from './constants';
import { parseDicom } from './parser';

/**
 * A small DICOM writer: Part 10 files in explicit or implicit VR little endian, with defined- or
 * undefined-length sequences and encapsulated pixel data. Used to build KOS manifests and the sandbox's
 * synthetic CT; enough of PS3.5 for those, nothing more.
 */

export type DicomItem = WElement[];
export type WValue = string | string[] | number | number[] | Buffer | DicomItem[] | { fragments: Buffer[] };
export type WElement = [tag: number, vr: string, value: WValue];

export interface WriteOptions {
  transferSyntaxUid?: string;
  /** Write sequences and items with undefined lengths and delimiters (as many archives do). */
  undefinedLengths?: boolean;
}

const IMPLEMENTATION_CLASS_UID = '1.2.826.0.1.3680043.10.1429.1';
const IMPLEMENTATION_VERSION = 'LPS_COMPANION1';

/** A new UID under the 2.25 arc (UUID as an integer, PS3.5 B.2). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${crypto.randomUUID().replace(/-/g, '')}`).toString(10)}`;
}

function pad(b: Buffer, vr: string): Buffer {
  if (b.length % 2 === 0) return b;
  const padByte = vr === 'UI' || vr === 'OB' || vr === 'UN' ? 0 : 0x20;
  return Buffer.concat([b, Buffer.from([padByte])]);
}

function encodeValue(vr: string, value: WValue): Buffer {
  if (Buffer.isBuffer(value)) return pad(value, vr);
  const list = Array.isArray(value) ? (value as (string | number)[]) : [value as string | number];
  switch (vr) {
    case 'US': {
      const b = Buffer.alloc(2 * list.length);
      list.forEach((v, i) => b.writeUInt16LE(Number(v), 2 * i));
      return b;
    }
    case 'SS': {
      const b = Buffer.alloc(2 * list.length);
      list.forEach((v, i) => b.writeInt16LE(Number(v), 2 * i));
      return b;
    }
    case 'UL': {
      const b = Buffer.alloc(4 * list.length);
      list.forEach((v, i) => b.writeUInt32LE(Number(v), 4 * i));
      return b;
    }
    case 'SL': {
      const b = Buffer.alloc(4 * list.length);
      list.forEach((v, i) => b.writeInt32LE(Number(v), 4 * i));
      return b;
    }
    case 'FL': {
      const b = Buffer.alloc(4 * list.length);
      list.forEach((v, i) => b.writeFloatLE(Number(v), 4 * i));
      return b;
    }
    case 'FD': {
      const b = Buffer.alloc(8 * list.length);
      list.forEach((v, i) => b.writeDoubleLE(Number(v), 8 * i));
      return b;
    }
    default:
      return pad(Buffer.from(list.map(String).join('\\'), 'utf8'), vr);
  }
}

function header(tag: number, vr: string, length: number, explicit: boolean): Buffer {
  if (!explicit) {
    const b = Buffer.alloc(8);
    b.writeUInt16LE(tag >>> 16, 0);
    b.writeUInt16LE(tag & 0xffff, 2);
    b.writeUInt32LE(length >>> 0, 4);
    return b;
  }
  if (LONG_VRS.has(vr)) {
    const b = Buffer.alloc(12);
    b.writeUInt16LE(tag >>> 16, 0);
    b.writeUInt16LE(tag & 0xffff, 2);
    b.write(vr, 4, 'latin1');
    b.writeUInt32LE(length >>> 0, 8);
    return b;
  }
  if (length > 0xffff) throw new Error(`value of ${vr} too long (${length})`);
  const b = Buffer.alloc(8);
  b.writeUInt16LE(tag >>> 16, 0);
  b.writeUInt16LE(tag & 0xffff, 2);
  b.write(vr, 4, 'latin1');
  b.writeUInt16LE(length, 6);
  return b;
}

function itemHeader(tag: number, length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(tag >>> 16, 0);
  b.writeUInt16LE(tag & 0xffff, 2);
  b.writeUInt32LE(length >>> 0, 4);
  return b;
}

/** Encodes a dataset (elements sorted by tag). */
export function encodeDataSet(elements: WElement[], explicit: boolean, undefinedLengths = false): Buffer {
  const parts: Buffer[] = [];
  const sorted = [...elements].sort((a, b) => a[0] - b[0]);
  for (const [tag, vr, value] of sorted) {
    if (vr === 'SQ') {
      const items = (value as DicomItem[]).map((item) => {
        const body = encodeDataSet(item, explicit, undefinedLengths);
        return undefinedLengths
          ? Buffer.concat([itemHeader(T.Item, 0xffffffff), body, itemHeader(T.ItemDelimitation, 0)])
          : Buffer.concat([itemHeader(T.Item, body.length), body]);
      });
      const body = Buffer.concat(items);
      if (undefinedLengths) parts.push(header(tag, vr, 0xffffffff, explicit), body, itemHeader(T.SequenceDelimitation, 0));
      else parts.push(header(tag, vr, body.length, explicit), body);
      continue;
    }
    if (typeof value === 'object' && value !== null && 'fragments' in value) {
      const frags = [itemHeader(T.Item, 0)]; // empty basic offset table
      for (const f of value.fragments) {
        const p = pad(f, 'OB');
        frags.push(itemHeader(T.Item, p.length), p);
      }
      parts.push(header(tag, vr, 0xffffffff, explicit), ...frags, itemHeader(T.SequenceDelimitation, 0));
      continue;
    }
    const v = encodeValue(vr, value);
    parts.push(header(tag, vr, v.length, explicit), v);
  }
  return Buffer.concat(parts);
}

/** A complete Part 10 file: preamble, `DICM`, file meta information, dataset. */
export function writePart10(elements: WElement[], opts: WriteOptions = {}): Buffer {
  const ts = opts.transferSyntaxUid ?? TS.ExplicitLE;
  const find = (t: number) => elements.find((e) => e[0] === t)?.[2] as string | undefined;
  const sopClass = find(T.SopClassUid);
  const sopInstance = find(T.SopInstanceUid);
  if (!sopClass || !sopInstance) throw new Error('a DICOM file needs SOPClassUID and SOPInstanceUID');
  const metaBody = encodeDataSet(
    [
      [0x00020001, 'OB', Buffer.from([0, 1])],
      [T.MediaStorageSopClassUid, 'UI', sopClass],
      [T.MediaStorageSopInstanceUid, 'UI', sopInstance],
      [T.TransferSyntaxUid, 'UI', ts],
      [0x00020012, 'UI', IMPLEMENTATION_CLASS_UID],
      [0x00020013, 'SH', IMPLEMENTATION_VERSION],
    ],
    true,
  );
  const groupLength = encodeDataSet([[T.FileMetaGroupLength, 'UL', metaBody.length]], true);
  const preamble = Buffer.alloc(132);
  preamble.write('DICM', 128, 'latin1');
  const body = encodeDataSet(elements, ts !== TS.ImplicitLE, opts.undefinedLengths);
  return Buffer.concat([preamble, groupLength, metaBody, body]);
}

/**
 * Rewrites top-level attributes of a little-endian DICOM file (new UIDs, patient identity…) keeping every
 * other element byte for byte, pixel data included. Elements are replaced, added or (value `null`) removed.
 */
export function rewritePart10(bytes: Buffer, changes: [tag: number, vr: string, value: WValue | null][]): Buffer {
  const parsed = parseDicom(bytes);
  const ts = parsed.transferSyntaxUid;
  if (ts === TS.DeflatedExplicitLE) throw new Error('rewriting deflated files is not supported');
  const explicit = ts !== TS.ImplicitLE;
  const ds = parsed.dataset;
  const byTag = new Map(changes.map((c) => [c[0], c]));
  const tags = [...new Set([...ds.elements.keys(), ...byTag.keys()])].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  for (const t of tags) {
    const change = byTag.get(t);
    if (change) {
      if (change[2] !== null) parts.push(encodeDataSet([[change[0], change[1], change[2]]], explicit));
      continue;
    }
    const el = ds.elements.get(t)!;
    parts.push(ds.bytes.subarray(el.start, el.end));
  }
  const sopClass = (byTag.get(T.SopClassUid)?.[2] as string | undefined) ?? ds.string(T.SopClassUid)!;
  const sopInstance = (byTag.get(T.SopInstanceUid)?.[2] as string | undefined) ?? ds.string(T.SopInstanceUid)!;
  const head = writePart10([[T.SopClassUid, 'UI', sopClass], [T.SopInstanceUid, 'UI', sopInstance]], { transferSyntaxUid: ts });
  // `head` = preamble + meta + the two elements just written: keep only preamble + meta.
  const metaEnd = 132 + 12 + head.readUInt32LE(132 + 8);
  return Buffer.concat([head.subarray(0, metaEnd), ...parts]);
}
