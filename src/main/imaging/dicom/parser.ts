import zlib from 'node:zlib';
import { AppError } from '../../core/errors';
import { ALL_VRS, KNOWN_SEQUENCES, LONG_VRS, T, TS, tagString } from './constants';

/**
 * A strict reader of DICOM Part 10 files and bare datasets (PS3.5 / PS3.10): implicit and explicit VR little
 * endian (and deflated explicit), defined and undefined lengths, nested sequences, encapsulated pixel data.
 * Every read is bounds-checked; malformed input gives an `AppError` naming the offset and the element.
 */

const UNDEFINED = 0xffffffff;
const MAX_DEPTH = 32;

export interface DicomElement {
  tag: number;
  /** Explicit VR, or the VR inferred for implicit files (`SQ`, else `UN`). */
  vr: string;
  /** Offset of the element header (its tag) in `DicomDataSet.bytes`. */
  start: number;
  /** Offset just past the element (after any delimiter). */
  end: number;
  /** Offset of the value in `DicomDataSet.bytes`. */
  offset: number;
  /** Value length in bytes (for undefined-length sequences: the bytes up to, not including, the delimiter). */
  length: number;
  items?: DicomDataSet[];
  /** Encapsulated pixel data: the fragments (basic offset table first). */
  fragments?: { offset: number; length: number }[];
}

export class DicomDataSet {
  constructor(
    readonly bytes: Buffer,
    readonly elements: Map<number, DicomElement>,
    readonly charset: 'latin1' | 'utf8' = 'latin1',
  ) {}

  has(t: number): boolean {
    return this.elements.has(t);
  }

  raw(t: number): Buffer | undefined {
    const el = this.elements.get(t);
    return el ? this.bytes.subarray(el.offset, el.offset + el.length) : undefined;
  }

  /** The value as text, padding (trailing spaces and NULs, leading spaces) trimmed; undefined when absent or empty. */
  string(t: number): string | undefined {
    const b = this.raw(t);
    if (!b || b.length === 0) return undefined;
    const s = b.toString(this.charset).replace(/[\0 ]+$/u, '').replace(/^ +/u, '');
    return s === '' ? undefined : s;
  }

  /** Multi-valued text (backslash separated). */
  strings(t: number): string[] {
    const s = this.string(t);
    return s === undefined ? [] : s.split('\\').map((v) => v.trim());
  }

  uint16(t: number): number | undefined {
    const b = this.raw(t);
    return b && b.length >= 2 ? b.readUInt16LE(0) : undefined;
  }

  uint32(t: number): number | undefined {
    const b = this.raw(t);
    return b && b.length >= 4 ? b.readUInt32LE(0) : undefined;
  }

  /** Items of a sequence (empty when absent). */
  sequence(t: number): DicomDataSet[] {
    return this.elements.get(t)?.items ?? [];
  }
}

export interface ParsedDicom {
  /** The bytes the dataset offsets refer to (the inflated body for deflated files). */
  body?: Buffer;
  /** The file meta information (group 0002), absent for a bare dataset. */
  meta?: DicomDataSet;
  transferSyntaxUid: string;
  dataset: DicomDataSet;
}

function malformed(detail: string): AppError {
  return new AppError(
    'IMAGING_DICOM_MALFORMED',
    'Le fichier DICOM est illisible : il est tronqué ou mal formé.',
    detail,
  );
}

class Reader {
  constructor(
    readonly buf: Buffer,
    readonly explicit: boolean,
    readonly charset: 'latin1' | 'utf8',
  ) {}

  /** Bounds check; `what` names the read (a function when building the name costs: only called on failure). */
  need(offset: number, n: number, end: number, what: string | (() => string)): void {
    if (offset < 0 || n < 0 || offset + n > end || offset + n > this.buf.length) {
      throw malformed(`${typeof what === 'function' ? what() : what}: needs ${n} byte(s) at offset ${offset}, the enclosing value ends at ${Math.min(end, this.buf.length)}`);
    }
  }

  readTag(offset: number, end: number, what: string): number {
    this.need(offset, 4, end, what);
    return ((this.buf.readUInt16LE(offset) << 16) | this.buf.readUInt16LE(offset + 2)) >>> 0;
  }

  /** Parses elements in [offset, end) or, with `untilItemDelimiter`, up to an item delimitation. Returns the dataset and the offset after it. */
  parseDataSet(offset: number, end: number, depth: number, untilItemDelimiter: boolean): { ds: DicomDataSet; next: number } {
    if (depth > MAX_DEPTH) throw malformed(`sequences nested deeper than ${MAX_DEPTH} levels at offset ${offset}`);
    const elements = new Map<number, DicomElement>();
    let charset = this.charset;
    let pos = offset;
    let lastTag = -1;
    for (;;) {
      if (pos >= end) {
        if (untilItemDelimiter) throw malformed(`item starting at ${offset} has no item delimitation before offset ${end}`);
        break;
      }
      const t = this.readTag(pos, end, 'element tag');
      if (t === T.ItemDelimitation) {
        if (!untilItemDelimiter) throw malformed(`unexpected item delimitation at offset ${pos}`);
        this.need(pos, 8, end, 'item delimitation');
        return { ds: new DicomDataSet(this.buf, elements, charset), next: pos + 8 };
      }
      if (t === T.Item || t === T.SequenceDelimitation) {
        // A stray sequence delimiter after a defined-length sequence (seen in real files, e.g. dcm4che output): skip it.
        if (t === T.SequenceDelimitation) {
          this.need(pos, 8, end, 'sequence delimitation');
          pos += 8;
          continue;
        }
        throw malformed(`unexpected item tag at offset ${pos}`);
      }
      if (t < lastTag) throw malformed(`element ${tagString(t)} at offset ${pos} is out of order (after ${tagString(lastTag)})`);
      lastTag = t;
      const el = this.parseElement(t, pos, end, depth);
      elements.set(t, el.element);
      if (t === T.SpecificCharacterSet) {
        const cs = this.buf.subarray(el.element.offset, el.element.offset + el.element.length).toString('latin1');
        if (cs.includes('ISO_IR 192')) charset = 'utf8';
      }
      pos = el.next;
    }
    return { ds: new DicomDataSet(this.buf, elements, charset), next: pos };
  }

  parseElement(t: number, pos: number, end: number, depth: number): { element: DicomElement; next: number } {
    let vr: string;
    let length: number;
    let valueOffset: number;
    if (this.explicit) {
      this.need(pos, 8, end, () => `header of ${tagString(t)}`);
      vr = this.buf.toString('latin1', pos + 4, pos + 6);
      if (!ALL_VRS.has(vr)) throw malformed(`element ${tagString(t)} at offset ${pos} has an invalid VR "${vr.replace(/[^\x20-\x7e]/g, '?')}"`);
      if (LONG_VRS.has(vr)) {
        this.need(pos, 12, end, () => `header of ${tagString(t)}`);
        length = this.buf.readUInt32LE(pos + 8);
        valueOffset = pos + 12;
      } else {
        length = this.buf.readUInt16LE(pos + 6);
        valueOffset = pos + 8;
      }
    } else {
      this.need(pos, 8, end, () => `header of ${tagString(t)}`);
      length = this.buf.readUInt32LE(pos + 4);
      valueOffset = pos + 8;
      vr = KNOWN_SEQUENCES.has(t) || length === UNDEFINED ? 'SQ' : 'UN';
      if (t === T.PixelData && length === UNDEFINED) vr = 'OB';
    }

    if (length === UNDEFINED) {
      if (vr === 'SQ' || vr === 'UN') {
        // UN with undefined length is an implicit-VR little endian sequence (PS3.5 6.2.2).
        const sub = vr === 'UN' ? new Reader(this.buf, false, this.charset) : this;
        const r = sub.parseSequence(valueOffset, end, depth + 1, true);
        return { element: { tag: t, vr: 'SQ', start: pos, end: r.next, offset: valueOffset, length: r.contentEnd - valueOffset, items: r.items }, next: r.next };
      }
      if (t === T.PixelData && (vr === 'OB' || vr === 'OW')) {
        const r = this.parseFragments(valueOffset, end);
        return { element: { tag: t, vr, start: pos, end: r.next, offset: valueOffset, length: r.contentEnd - valueOffset, fragments: r.fragments }, next: r.next };
      }
      throw malformed(`element ${tagString(t)} (${vr}) at offset ${pos} has an undefined length, allowed only for sequences and pixel data`);
    }

    this.need(valueOffset, length, end, () => `value of ${tagString(t)}`);
    const element: DicomElement = { tag: t, vr, start: pos, end: valueOffset + length, offset: valueOffset, length };
    if (vr === 'SQ') {
      element.items = this.parseSequence(valueOffset, valueOffset + length, depth + 1, false).items;
    } else if (!this.explicit && length >= 8 && this.readTag(valueOffset, valueOffset + length, 'value') === T.Item) {
      // Implicit VR: an unknown attribute whose value is a well-formed run of items is a sequence.
      try {
        element.items = this.parseSequence(valueOffset, valueOffset + length, depth + 1, false).items;
        element.vr = 'SQ';
      } catch {
        /* an opaque value that happens to start like an item */
      }
    }
    return { element, next: valueOffset + length };
  }

  parseSequence(offset: number, end: number, depth: number, undefinedLength: boolean): { items: DicomDataSet[]; next: number; contentEnd: number } {
    const items: DicomDataSet[] = [];
    let pos = offset;
    for (;;) {
      if (!undefinedLength && pos >= end) return { items, next: pos, contentEnd: pos };
      const t = this.readTag(pos, end, 'item tag');
      this.need(pos, 8, end, 'item header');
      const len = this.buf.readUInt32LE(pos + 4);
      if (t === T.SequenceDelimitation) {
        if (!undefinedLength) throw malformed(`sequence delimitation inside a defined-length sequence at offset ${pos}`);
        return { items, next: pos + 8, contentEnd: pos };
      }
      if (t !== T.Item) throw malformed(`expected an item at offset ${pos}, found ${tagString(t)}`);
      const start = pos + 8;
      if (len === UNDEFINED) {
        const r = this.parseDataSet(start, end, depth, true);
        items.push(r.ds);
        pos = r.next;
      } else {
        this.need(start, len, end, 'item value');
        items.push(this.parseDataSet(start, start + len, depth, false).ds);
        pos = start + len;
      }
    }
  }

  parseFragments(offset: number, end: number): { fragments: { offset: number; length: number }[]; next: number; contentEnd: number } {
    const fragments: { offset: number; length: number }[] = [];
    let pos = offset;
    for (;;) {
      const t = this.readTag(pos, end, 'fragment tag');
      this.need(pos, 8, end, 'fragment header');
      const len = this.buf.readUInt32LE(pos + 4);
      if (t === T.SequenceDelimitation) return { fragments, next: pos + 8, contentEnd: pos };
      if (t !== T.Item || len === UNDEFINED) throw malformed(`bad pixel data fragment at offset ${pos}`);
      this.need(pos + 8, len, end, 'fragment value');
      fragments.push({ offset: pos + 8, length: len });
      pos += 8 + len;
    }
  }
}

/** True when the bytes look like a DICOM Part 10 file (128-byte preamble + `DICM`). */
export function hasPart10Preamble(buf: Buffer): boolean {
  return buf.length >= 132 && buf.toString('latin1', 128, 132) === 'DICM';
}

/** Guesses explicit vs implicit VR for a bare dataset from its first element header. */
function looksExplicit(buf: Buffer, offset: number): boolean {
  if (buf.length < offset + 8) return false;
  const vr = buf.toString('latin1', offset + 4, offset + 6);
  return ALL_VRS.has(vr);
}

/** Parses a Part 10 file, or a bare little-endian dataset (no preamble). */
export function parseDicom(input: Buffer | Uint8Array): ParsedDicom {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length < 8) throw malformed(`only ${buf.length} byte(s)`);
  let pos = 0;
  let meta: DicomDataSet | undefined;
  let ts: string;
  if (hasPart10Preamble(buf)) {
    pos = 132;
    // The meta group is explicit VR LE; read until the first non-0002 element.
    const metaReader = new Reader(buf, true, 'latin1');
    const elements = new Map<number, DicomElement>();
    while (pos + 4 <= buf.length && buf.readUInt16LE(pos) === 0x0002) {
      const t = metaReader.readTag(pos, buf.length, 'meta element tag');
      const r = metaReader.parseElement(t, pos, buf.length, 0);
      elements.set(t, r.element);
      pos = r.next;
    }
    meta = new DicomDataSet(buf, elements);
    const found = meta.string(T.TransferSyntaxUid);
    if (!found) throw malformed('file meta information has no transfer syntax (0002,0010)');
    ts = found;
  } else {
    if (buf.readUInt16LE(0) === 0x0002) throw malformed('file meta information without the DICM preamble');
    ts = looksExplicit(buf, 0) ? TS.ExplicitLE : TS.ImplicitLE;
  }

  let body = buf;
  let start = pos;
  if (ts === TS.ExplicitBE) {
    throw new AppError(
      'IMAGING_DICOM_UNSUPPORTED',
      'Ce fichier DICOM utilise le codage « big endian », abandonné par la norme et non pris en charge.',
      `transfer syntax ${ts}`,
    );
  }
  if (ts === TS.DeflatedExplicitLE) {
    try {
      body = zlib.inflateRawSync(buf.subarray(pos), { maxOutputLength: 512 * 1024 * 1024 });
    } catch (err) {
      throw malformed(`deflated dataset cannot be inflated: ${(err as Error).message}`);
    }
    start = 0;
  }
  const explicit = ts !== TS.ImplicitLE;
  const reader = new Reader(body, explicit, 'latin1');
  const { ds } = reader.parseDataSet(start, body.length, 0, false);
  return { ...(meta ? { meta } : {}), transferSyntaxUid: ts, dataset: ds };
}
