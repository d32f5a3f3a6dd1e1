/**
 * Reading the viewer's record stream (see src/main/imaging/frame-stream.ts for the format): each instance's
 * metadata, and each of its frames in a buffer of its own, ready to be transferred to a decoder. Data loading
 * only — no cornerstone here (frame-stream.ts hands the records to the image loader).
 */
type DicomJson = Record<string, { vr?: string; Value?: unknown[] }>;

interface RecordHeader {
  sop: string;
  ts: string;
  metadata: DicomJson;
  frames: number[];
}

/** An instance that has arrived: its metadata, and the frame bytes not yet handed to a decoder. */
export interface InstanceRecord {
  sop: string;
  ts: string;
  metadata: DicomJson;
  frameCount: number;
  /** Each frame's bytes in its own buffer (transferred to a worker once, then dropped). */
  frames: (ArrayBuffer | undefined)[];
}

/** Reads a body stream in exact-size pieces, each in a fresh buffer of its own (transferable to a worker). */
interface ExactReader {
  /** The next `n` bytes; `undefined` at a clean end of stream when `endOk` (nothing of the piece read). */
  exactly(n: number, endOk?: boolean): Promise<ArrayBuffer | undefined>;
}

/** `read(view, { min })` (Streams standard; Chromium ≥ 127), not yet in every TypeScript DOM library. */
type ByobRead = (view: Uint8Array, opts: { min: number }) => Promise<ReadableStreamReadResult<Uint8Array>>;

const truncated = () => new Error('Flux d’images interrompu.');

/**
 * Bring-your-own-buffer reads: the network bytes land directly in each frame's own buffer (no intermediate
 * chunks, no copy, no garbage) — for a 150 MB series, that copy and its garbage were a visible part of the page's
 * main-thread time. Fetch bodies are byte streams in Chromium; elsewhere `byobReader` returns undefined.
 */
function byobReader(body: ReadableStream<Uint8Array>): ExactReader | undefined {
  let reader: ReadableStreamBYOBReader;
  try {
    reader = body.getReader({ mode: 'byob' });
  } catch {
    return undefined;
  }
  return {
    async exactly(n, endOk) {
      let buf = new ArrayBuffer(n);
      let off = 0;
      while (off < n) {
        // `min`: resolve once the piece is whole, not at every network chunk (one read per frame instead of one
        // per ~64 KB: fewer promise turns on the page's main thread). Ignored where unsupported: the loop goes on.
        const { value, done } = await (reader as unknown as { read: ByobRead }).read(new Uint8Array(buf, off, n - off), { min: n - off });
        if (value) {
          buf = value.buffer as ArrayBuffer;
          off += value.byteLength;
        }
        if (done) {
          if (off === 0 && endOk) return undefined;
          if (off < n) throw truncated();
        }
      }
      return buf;
    },
  };
}

/** The same over a default reader: chunks queued, each piece copied out of them into its own buffer. */
function chunkReader(body: ReadableStream<Uint8Array>): ExactReader {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let head = 0;
  let size = 0;
  let ended = false;
  return {
    async exactly(n, endOk) {
      while (size < n && !ended) {
        const { value, done } = await reader.read();
        if (done) ended = true;
        else if (value.length) {
          chunks.push(value);
          size += value.length;
        }
      }
      if (size === 0 && ended && endOk) return undefined;
      if (size < n) throw truncated();
      const out = new Uint8Array(n);
      let o = 0;
      while (o < n) {
        const c = chunks[0]!;
        const k = Math.min(c.length - head, n - o);
        out.set(c.subarray(head, head + k), o);
        o += k;
        head += k;
        if (head === c.length) {
          chunks.shift();
          head = 0;
        }
      }
      size -= n;
      return out.buffer;
    },
  };
}

async function httpError(res: Response): Promise<Error> {
  let message = `Images indisponibles (HTTP ${res.status}).`;
  try {
    message = ((await res.json()) as { message?: string }).message ?? message;
  } catch {
    /* not JSON */
  }
  return new Error(message);
}

/** Reads a record stream, calling `onRecord` as each instance completes. */
export async function readRecords(url: string, onRecord: (r: InstanceRecord) => void, signal?: AbortSignal): Promise<void> {
  const res = await fetch(url, signal ? { signal } : {});
  if (!res.ok || !res.body) throw await httpError(res);
  await recordsOf(res.body, onRecord);
}

/** The records of a body stream (BYOB reads when the stream is a byte stream; `chunked` forces the other way). */
export async function recordsOf(body: ReadableStream<Uint8Array>, onRecord: (r: InstanceRecord) => void, opts: { chunked?: boolean } = {}): Promise<void> {
  const src = (opts.chunked ? undefined : byobReader(body)) ?? chunkReader(body);
  const utf8 = new TextDecoder();
  for (;;) {
    const len = await src.exactly(4, true);
    if (!len) return;
    const header = JSON.parse(utf8.decode(await src.exactly(new DataView(len).getUint32(0, true)))) as RecordHeader;
    const frames: ArrayBuffer[] = [];
    for (const n of header.frames) frames.push((await src.exactly(n))!);
    onRecord({ sop: header.sop, ts: header.ts, metadata: header.metadata, frameCount: frames.length, frames });
  }
}

