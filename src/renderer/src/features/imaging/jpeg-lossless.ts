/**
 * Lossless JPEG decoder (ITU-T T.81 process 14, SOF3, Huffman coded): DICOM transfer syntaxes
 * 1.2.840.10008.1.2.4.57 (any selection value) and 1.2.840.10008.1.2.4.70 (selection value 1). Pure TypeScript
 * (no `eval`, runs under the strict CSP in the decode workers, and in Node for the tests): 2 to 16 bits per
 * sample, one or several interleaved components (each sampled 1×1), predictors 1–7, point transform, restart
 * intervals. Samples come out interleaved (planar configuration 0), little endian, 8 or 16 bits each.
 */

export interface LosslessFrame {
  width: number;
  height: number;
  components: number;
  /** Sample precision P (bits). */
  precision: number;
  /** Uint8 samples when precision ≤ 8, else Uint16 samples (little endian bytes). */
  pixels: Uint8Array | Uint16Array;
}

interface Huffman {
  /** (length << 16 | value) for every 16-bit prefix, via a 9-bit fast table and a slow path. */
  fast: Int32Array;
  maxcode: Int32Array;
  valptr: Int32Array;
  mincode: Int32Array;
  values: Uint8Array;
}

const FAST_BITS = 9;

function fail(detail: string): never {
  throw new Error(`JPEG sans perte illisible : ${detail}`);
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxcode = new Int32Array(18).fill(-1);
  const mincode = new Int32Array(17);
  const valptr = new Int32Array(17);
  const fast = new Int32Array(1 << FAST_BITS).fill(-1);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1]!;
    valptr[len] = k;
    mincode[len] = code;
    for (let i = 0; i < n; i++, k++, code++) {
      if (len <= FAST_BITS) {
        const shift = FAST_BITS - len;
        const base = code << shift;
        for (let j = 0; j < 1 << shift; j++) fast[base + j] = (len << 16) | values[k]!;
      }
    }
    maxcode[len] = n ? code - 1 : -1;
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { fast, maxcode, valptr, mincode, values };
}

class BitReader {
  private acc = 0;
  private bits = 0;
  /** A marker met in the entropy-coded data (restart or end): no more bits until it is consumed. */
  marker = -1;

  constructor(
    private readonly data: Uint8Array,
    public pos: number,
  ) {}

  private fill(): void {
    while (this.bits <= 24) {
      let b = 0;
      if (this.marker < 0 && this.pos < this.data.length) {
        b = this.data[this.pos]!;
        if (b === 0xff) {
          const next = this.data[this.pos + 1] ?? 0;
          if (next === 0x00) this.pos += 2;
          else {
            this.marker = next; // leave pos on the marker; feed zeros
            b = 0;
          }
        } else this.pos++;
      }
      this.acc = ((this.acc << 8) | b) >>> 0;
      this.bits += 8;
    }
  }

  peek16(): number {
    if (this.bits < 16) this.fill();
    return (this.acc >>> (this.bits - 16)) & 0xffff;
  }

  skip(n: number): void {
    this.bits -= n;
    this.acc &= this.bits >= 32 ? 0xffffffff : (1 << this.bits) - 1 || 0;
  }

  get(n: number): number {
    if (n === 0) return 0;
    if (this.bits < n) this.fill();
    const v = (this.acc >>> (this.bits - n)) & ((1 << n) - 1);
    this.skip(n);
    return v;
  }

  decode(h: Huffman): number {
    const p = this.peek16();
    const f = h.fast[p >>> (16 - FAST_BITS)]!;
    if (f >= 0) {
      this.skip(f >>> 16);
      return f & 0xff;
    }
    for (let len = FAST_BITS + 1; len <= 16; len++) {
      const code = p >>> (16 - len);
      if (code <= h.maxcode[len]!) {
        this.skip(len);
        return h.values[h.valptr[len]! + code - h.mincode[len]!]!;
      }
    }
    return fail('code de Huffman invalide');
  }

  /** Skips to the restart marker expected at the end of a restart interval. */
  restart(): void {
    this.acc = 0;
    this.bits = 0;
    if (this.marker < 0) {
      // Find the marker (the encoder may pad with 1-bits).
      while (this.pos + 1 < this.data.length && !(this.data[this.pos] === 0xff && this.data[this.pos + 1]! >= 0xd0 && this.data[this.pos + 1]! <= 0xd7)) this.pos++;
    }
    if (this.pos + 1 >= this.data.length) fail('marqueur de reprise manquant');
    this.pos += 2;
    this.marker = -1;
  }
}

export function decodeJpegLossless(data: Uint8Array): LosslessFrame {
  if (data[0] !== 0xff || data[1] !== 0xd8) fail('pas de marqueur SOI');
  let pos = 2;
  const tables = new Map<number, Huffman>();
  let restartInterval = 0;
  let frame: { precision: number; height: number; width: number; ids: number[] } | undefined;
  const u16 = (o: number) => (data[o]! << 8) | data[o + 1]!;
  for (;;) {
    if (pos + 4 > data.length) fail('fin de flux avant les données');
    if (data[pos] !== 0xff) {
      pos++;
      continue; // fill bytes between segments
    }
    const marker = data[pos + 1]!;
    if (marker === 0xff) {
      pos++;
      continue;
    }
    const len = u16(pos + 2);
    const seg = pos + 4;
    const end = pos + 2 + len;
    if (end > data.length) fail('segment tronqué');
    if (marker === 0xc3) {
      const ids: number[] = [];
      const n = data[seg + 5]!;
      for (let i = 0; i < n; i++) {
        const hv = data[seg + 6 + i * 3 + 1]!;
        if (hv !== 0x11) fail('sous-échantillonnage non pris en charge');
        ids.push(data[seg + 6 + i * 3]!);
      }
      frame = { precision: data[seg]!, height: u16(seg + 1), width: u16(seg + 3), ids };
    } else if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      fail(`processus JPEG non sans perte (SOF${marker - 0xc0})`);
    } else if (marker === 0xc4) {
      let o = seg;
      while (o < end) {
        const th = data[o]! & 0x0f;
        const counts = data.subarray(o + 1, o + 17);
        const total = counts.reduce((a, b) => a + b, 0);
        tables.set(th, buildHuffman(counts, data.subarray(o + 17, o + 17 + total)));
        o += 17 + total;
      }
    } else if (marker === 0xdd) {
      restartInterval = u16(seg);
    } else if (marker === 0xda) {
      if (!frame) fail('SOS avant SOF3');
      const ns = data[seg]!;
      const comps: Huffman[] = [];
      for (let i = 0; i < ns; i++) {
        const t = tables.get(data[seg + 2 + i * 2]! >> 4);
        if (!t) fail('table de Huffman absente');
        comps.push(t);
      }
      if (ns !== frame.ids.length) fail('composantes non entrelacées dans un seul balayage');
      const predictor = data[seg + 1 + ns * 2]!;
      const pt = data[seg + 3 + ns * 2]! & 0x0f;
      return decodeScan(data, end, frame, comps, predictor, pt, restartInterval);
    } else if (marker === 0xd9) {
      fail('image absente');
    }
    pos = end;
  }
}

function decodeScan(
  data: Uint8Array,
  start: number,
  frame: { precision: number; height: number; width: number; ids: number[] },
  huff: Huffman[],
  predictor: number,
  pt: number,
  restartInterval: number,
): LosslessFrame {
  const { width, height, precision } = frame;
  const nc = huff.length;
  if (predictor < 1 || predictor > 7) fail(`prédicteur ${predictor}`);
  if (!width || !height) fail('dimensions nulles');
  const out = precision > 8 ? new Uint16Array(width * height * nc) : new Uint8Array(width * height * nc);
  const mask = (1 << 16) - 1;
  const initial = 1 << (precision - pt - 1);
  const reader = new BitReader(data, start);
  const stride = width * nc;
  // Predictions work on the point-transformed values: keep them apart from the (shifted) output.
  const cur = new Int32Array(stride);
  const prev = new Int32Array(stride);
  let mcus = 0;
  let firstRowOfInterval = true;
  let restartPending = false;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (restartInterval && mcus === restartInterval) {
        reader.restart();
        mcus = 0;
        restartPending = true;
      }
      for (let c = 0; c < nc; c++) {
        const i = x * nc + c;
        let pred: number;
        if (restartPending || (y === 0 && x === 0)) pred = initial;
        else if (firstRowOfInterval && y === 0) pred = cur[i - nc]!;
        else if (x === 0) pred = prev[i]!;
        else if (firstRowOfInterval) pred = cur[i - nc]!;
        else {
          const ra = cur[i - nc]!;
          const rb = prev[i]!;
          const rc = prev[i - nc]!;
          switch (predictor) {
            case 1:
              pred = ra;
              break;
            case 2:
              pred = rb;
              break;
            case 3:
              pred = rc;
              break;
            case 4:
              pred = ra + rb - rc;
              break;
            case 5:
              pred = ra + ((rb - rc) >> 1);
              break;
            case 6:
              pred = rb + ((ra - rc) >> 1);
              break;
            default:
              pred = (ra + rb) >> 1;
          }
        }
        const s = reader.decode(huff[c]!);
        let diff: number;
        if (s === 0) diff = 0;
        else if (s === 16) diff = 32768;
        else {
          const v = reader.get(s);
          diff = v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
        }
        const value = (pred + diff) & mask;
        cur[i] = value;
        out[y * stride + i] = value << pt;
      }
      if (restartPending && x < width) {
        // A restart resets prediction to the first-line rule until the end of that row.
        restartPending = false;
        firstRowOfInterval = true;
      }
      mcus++;
    }
    prev.set(cur);
    firstRowOfInterval = false;
  }
  return { width, height, components: nc, precision, pixels: out };
}
