/**
 * IHE_XDM.zip reader: tolerant of real-world variants (subset names, case, __MACOSX/), strict on safety.
 * - a file is streamed with yauzl (central directory first, entries inflated as streams): memory stays bounded;
 *   an archive already in memory has its central directory read directly (`zip-directory.ts`, yauzl for the
 *   rare archives it leaves) and its kept entries inflated in one call each, under the same caps;
 * - caps on entry count (checked from the end-of-central-directory record before any entry is read),
 *   declared and actual uncompressed sizes, compression ratio;
 * - refuses zip-slip and absolute paths anywhere in the archive;
 * - writes only the METADATA-referenced documents, under names it chooses itself, inside `workDir`;
 * - METADATA.XML goes through safe-xml (no DTD / entities); hash (SHA-1) and size verified per document;
 * - a bad document gives per-document problems; only an unsafe/unreadable archive is refused as a whole.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { AppError } from '../core/errors';
import { parseCdaHeader } from './cda-parse';
import { parseEbrim } from './ebrim-parse';
import { readZipDirectory, type ZipDirectory, type ZipDirectoryEntry } from './zip-directory';
import type { DocumentProblem, ParsedCda, XdsDocumentEntry, XdsSubmissionSet } from './types';
import { XDM_ACTION_SLOT } from './wire-profile';

export interface XdmLimits {
  maxEntries: number;
  maxTotalUncompressed: number;
  maxEntryUncompressed: number;
  /** Max uncompressed/compressed ratio for entries above `ratioMinBytes`. */
  maxRatio: number;
  ratioMinBytes: number;
  maxMetadataBytes: number;
  /** Documents up to this size are parsed as CDA to check they are one (and match the metadata). */
  maxParseBytes: number;
}

export const DEFAULT_XDM_LIMITS: XdmLimits = {
  maxEntries: 10_000,
  maxTotalUncompressed: 1024 * 1024 * 1024,
  maxEntryUncompressed: 512 * 1024 * 1024,
  maxRatio: 200,
  ratioMinBytes: 1024 * 1024,
  maxMetadataBytes: 32 * 1024 * 1024,
  maxParseBytes: 64 * 1024 * 1024,
};

export interface XdmReadDocument {
  uri: string;
  uniqueId: string;
  typeCode: string;
  patientId: string;
  hashValid: boolean;
  sizeValid: boolean;
  /** CI-SIS extra metadata: 'C' replacement, 'D' deletion, null = initial transmission. */
  action: 'C' | 'D' | null;
  problems: DocumentProblem[];
  mimeType: string;
  title: string;
  /** Extracted file (inside workDir), when found and not kept in memory. */
  path?: string;
  /** The document's bytes, when kept in memory (`inMemoryMaxBytes`) instead of written to `path`. */
  bytes?: Buffer;
  /** The CDA header as read by the reader's own check (XML documents up to `maxParseBytes`), to avoid parsing twice. */
  cda?: Pick<ParsedCda, 'header' | 'bytes'>;
  entry: XdsDocumentEntry;
}

export interface XdmReadResult {
  submissionSet: XdsSubmissionSet | null;
  documents: XdmReadDocument[];
  problems: DocumentProblem[];
  subsetPath: string;
  /** Where extracted documents were written ('' when every document was kept in memory). */
  workDir: string;
  cleanup: () => void;
}

function refuse(code: string, message: string, detail: string): AppError {
  return new AppError(code, message, detail);
}

const UNSAFE = "L'archive XDM reçue est dangereuse ou illisible et n'a pas été ouverte.";

function openZip(input: string | Buffer): Promise<ZipFile> {
  const opts = { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false, decodeStrings: true };
  return new Promise((resolve, reject) => {
    const cb = (err: Error | null, zf?: ZipFile) => {
      if (err || !zf) reject(refuse('XDM_NOT_ZIP', "Le fichier reçu n'est pas une archive ZIP lisible.", err?.message ?? 'no zip'));
      else resolve(zf);
    };
    if (typeof input === 'string') yauzl.open(input, opts, cb);
    else yauzl.fromBuffer(input, opts, cb);
  });
}

function mapEntryError(err: Error): AppError {
  const m = err.message;
  if (/absolute path/i.test(m)) return refuse('XDM_ABSOLUTE_PATH', UNSAFE, `entry with an absolute path: ${m}`);
  if (/invalid relative path|\.\./i.test(m)) return refuse('XDM_ZIP_SLIP', UNSAFE, `entry escaping the archive folder: ${m}`);
  if (/too many|size/i.test(m)) return refuse('XDM_TOO_LARGE', UNSAFE, m);
  return refuse('XDM_NOT_ZIP', "Le fichier reçu n'est pas une archive ZIP lisible.", m);
}

/** Our own name check on top of yauzl's (backslashes, drive letters, NUL, dot-dot after normalisation). */
function checkName(name: string): void {
  const n = name.replace(/\\/g, '/');
  if (n.startsWith('/') || /^[a-zA-Z]:/.test(n) || n.startsWith('//')) throw refuse('XDM_ABSOLUTE_PATH', UNSAFE, `absolute path: ${name}`);
  if (n.split('/').some((s) => s === '..')) throw refuse('XDM_ZIP_SLIP', UNSAFE, `path traversal: ${name}`);
  if (n.includes('\0')) throw refuse('XDM_ZIP_SLIP', UNSAFE, `NUL in entry name: ${JSON.stringify(name)}`);
}

/** The caps every listed entry goes through, whoever read the central directory (entry count checked first). */
class EntryCaps {
  private total = 0;
  constructor(
    private readonly limits: XdmLimits,
    entryCount: number,
  ) {
    if (entryCount > limits.maxEntries) throw refuse('XDM_TOO_MANY_ENTRIES', UNSAFE, `${entryCount} entries (max ${limits.maxEntries})`);
  }

  check(e: ZipDirectoryEntry): void {
    const { limits } = this;
    checkName(e.fileName);
    if (e.uncompressedSize > limits.maxEntryUncompressed) {
      throw refuse('XDM_TOO_LARGE', UNSAFE, `${e.fileName}: ${e.uncompressedSize} bytes (max ${limits.maxEntryUncompressed})`);
    }
    this.total += e.uncompressedSize;
    if (this.total > limits.maxTotalUncompressed) throw refuse('XDM_TOO_LARGE', UNSAFE, `total uncompressed size above ${limits.maxTotalUncompressed} bytes`);
    if (e.uncompressedSize > limits.ratioMinBytes && e.uncompressedSize / Math.max(1, e.compressedSize) > limits.maxRatio) {
      throw refuse('XDM_RATIO', UNSAFE, `${e.fileName}: compression ratio ${Math.round(e.uncompressedSize / Math.max(1, e.compressedSize))} (max ${limits.maxRatio})`);
    }
  }
}

async function listEntries(zf: ZipFile, limits: XdmLimits): Promise<Entry[]> {
  const caps = new EntryCaps(limits, zf.entryCount);
  const entries: Entry[] = [];
  await new Promise<void>((resolve, reject) => {
    zf.on('entry', (e: Entry) => {
      try {
        caps.check(e);
        entries.push(e);
        zf.readEntry();
      } catch (err) {
        reject(err);
      }
    });
    zf.on('end', () => resolve());
    zf.on('error', (err: Error) => reject(err instanceof AppError ? err : mapEntryError(err)));
    zf.readEntry();
  });
  return entries;
}

/** The same listing from a central directory read in memory. */
function listDirectory(dir: ZipDirectory, limits: XdmLimits): ZipDirectoryEntry[] {
  const caps = new EntryCaps(limits, dir.entryCount);
  const out: ZipDirectoryEntry[] = [];
  try {
    for (const e of dir.entries()) {
      caps.check(e);
      out.push(e);
    }
  } catch (err) {
    throw err instanceof AppError ? err : mapEntryError(err as Error);
  }
  return out;
}

/** Where an entry's data is in an archive held in memory (after its local header). */
function entryData(zip: Buffer, e: ZipDirectoryEntry): Buffer {
  const at = e.relativeOffsetOfLocalHeader;
  if (at + 30 > zip.length || zip.readUInt32LE(at) !== 0x04034b50) throw new Error(`invalid local file header signature at ${at}`);
  if (e.generalPurposeBitFlag & 0x1) throw new Error('entry is encrypted');
  const start = at + 30 + zip.readUInt16LE(at + 26) + zip.readUInt16LE(at + 28);
  const end = start + e.compressedSize;
  if (end > zip.length) throw new Error(`entry data runs past the end of the archive (${end} > ${zip.length})`);
  if (e.compressionMethod !== 0 && e.compressionMethod !== 8) throw new Error(`unsupported compression method ${e.compressionMethod}`);
  return zip.subarray(start, end);
}

/** An entry as a stream: from yauzl for a file, inflated from the buffer for an archive held in memory. */
function openStream(source: ZipFile | Buffer, e: ZipDirectoryEntry): Promise<NodeJS.ReadableStream> {
  if (Buffer.isBuffer(source)) {
    const data = Readable.from([entryData(source, e)]);
    return Promise.resolve(e.compressionMethod === 8 ? data.pipe(zlib.createInflateRaw()) : data);
  }
  return new Promise((resolve, reject) => source.openReadStream(e as Entry, (err, s) => (err || !s ? reject(err ?? new Error('no stream')) : resolve(s))));
}

/** Streams an entry through a byte counter with a hard cap (in case the headers lie). */
function capped(max: number, onChunk?: (c: Buffer) => void): Transform {
  let n = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      n += chunk.length;
      if (n > max) return cb(refuse('XDM_TOO_LARGE', UNSAFE, `entry larger than ${max} bytes once inflated`));
      onChunk?.(chunk);
      cb(null, chunk);
    },
  });
}

/**
 * An entry of an archive held in memory, inflated in one call (no stream machinery: received mails open many
 * small archives). Same guarantees as the streamed path: the output is capped (`maxOutputLength`) and must
 * have exactly the size the central directory declares; encrypted entries and unknown methods are unreadable.
 */
function inflateInMemory(zip: Buffer, e: ZipDirectoryEntry, max: number): Buffer {
  const data = entryData(zip, e);
  const cap = Math.min(max, e.uncompressedSize);
  let out = data; // stored (method 0); `entryData` refuses any method but 0 and 8
  if (e.compressionMethod === 8) {
    try {
      out = zlib.inflateRawSync(data, { maxOutputLength: cap + 1 });
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw refuse('XDM_TOO_LARGE', UNSAFE, `${e.fileName}: inflates beyond ${cap} bytes`);
      throw err;
    }
  }
  if (out.length > max) throw refuse('XDM_TOO_LARGE', UNSAFE, `entry larger than ${max} bytes once inflated`);
  if (out.length !== e.uncompressedSize) throw new Error(`too many bytes or too few: expected ${e.uncompressedSize}, got ${out.length}`);
  return out;
}

async function readToBuffer(source: ZipFile | Buffer, e: ZipDirectoryEntry, max: number): Promise<Buffer> {
  if (Buffer.isBuffer(source)) {
    try {
      return inflateInMemory(source, e, max);
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw refuse('XDM_TOO_LARGE', UNSAFE, `${e.fileName}: ${(err as Error).message}`);
    }
  }
  const chunks: Buffer[] = [];
  try {
    const s = await openStream(source, e);
    await pipeline(s, capped(max, (c) => chunks.push(c)), async function* (src) {
      for await (const _ of src) void _;
    });
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw refuse('XDM_TOO_LARGE', UNSAFE, `${e.fileName}: ${(err as Error).message}`);
  }
  return Buffer.concat(chunks);
}

const isJunk = (n: string) => n.startsWith('__MACOSX/') || n.split('/').some((s) => s === '.DS_Store' || s.startsWith('._'));

/** Reads an IHE_XDM.zip (path or Buffer). */
/**
 * `inMemoryMaxBytes`: documents are kept in memory (`bytes`) instead of written to the work dir while the
 * running total of their (verified) sizes stays within this budget — for small archives read in bulk, such
 * as received mails. Default 0: every document goes to disk.
 */
export async function readXdm(input: string | Buffer, opts: { limits?: Partial<XdmLimits>; workDir?: string; inMemoryMaxBytes?: number } = {}): Promise<XdmReadResult> {
  const limits = { ...DEFAULT_XDM_LIMITS, ...opts.limits };
  const zip = typeof input === 'string' ? undefined : input;
  let dir: ZipDirectory | undefined;
  if (zip) {
    try {
      dir = readZipDirectory(zip);
    } catch (err) {
      throw refuse('XDM_NOT_ZIP', "Le fichier reçu n'est pas une archive ZIP lisible.", (err as Error).message);
    }
  }
  // yauzl for a file, and for the archives the direct reader leaves (zip64, legacy code-page names).
  const zf = dir ? undefined : await openZip(input);
  const source: ZipFile | Buffer = zip ?? zf!;
  try {
    const listed = dir ? listDirectory(dir, limits) : await listEntries(zf!, limits);
    const entries = listed.filter((e) => !e.fileName.endsWith('/') && !isJunk(e.fileName.replace(/\\/g, '/')));
    const byLower = new Map<string, ZipDirectoryEntry>();
    for (const e of entries) byLower.set(e.fileName.replace(/\\/g, '/').toLowerCase(), e);
    const metas = entries
      .map((e) => e.fileName.replace(/\\/g, '/'))
      .filter((n) => /(^|\/)ihe_xdm\/[^/]+\/metadata\.xml$/i.test(n) || /^metadata\.xml$/i.test(n))
      .sort();
    const problems: DocumentProblem[] = [];
    const metaName = metas[0];
    if (!metaName) throw refuse('XDM_NO_METADATA', "L'archive XDM ne contient pas de fichier METADATA.XML.", `entries: ${entries.slice(0, 20).map((e) => e.fileName).join(', ')}`);
    if (metas.length > 1) problems.push({ code: 'XDM_MULTIPLE_SUBSETS', severity: 'warning', message: `Plusieurs sous-dossiers ; seul ${metaName} est lu.` });
    const subsetPath = metaName.slice(0, metaName.lastIndexOf('/') + 1);
    const metaBytes = await readToBuffer(source, byLower.get(metaName.toLowerCase())!, limits.maxMetadataBytes);
    let meta;
    try {
      meta = parseEbrim(metaBytes);
    } catch (err) {
      const detail = err instanceof AppError ? err.detail ?? err.message : (err as Error).message;
      throw refuse('XDM_METADATA_INVALID', "Les métadonnées de l'archive XDM (METADATA.XML) sont invalides ou dangereuses.", detail ?? '');
    }
    // The work dir is created on first use: an archive read entirely in memory touches no disk.
    let workDir = '';
    const ensureWorkDir = () => (workDir ||= opts.workDir ? fs.mkdtempSync(path.join(opts.workDir, 'xdm-')) : fs.mkdtempSync(path.join(os.tmpdir(), 'lps-xdm-')));
    const cleanup = () => {
      if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
    };
    const memoryBudget = opts.inMemoryMaxBytes ?? 0;
    let inMemory = 0;
    try {
    const ss = meta.submissionSets[0] ?? null;
    if (!ss) problems.push({ code: 'XDM_NO_SUBMISSION_SET', severity: 'error', message: 'METADATA.XML ne contient pas de lot de soumission.' });
    if (!meta.documents.length) problems.push({ code: 'XDM_NO_DOCUMENT', severity: 'error', message: 'METADATA.XML ne décrit aucun document.' });
    const ssAction = ss?.extraSlots[XDM_ACTION_SLOT]?.[0];
    const documents: XdmReadDocument[] = [];
    let n = 0;
    for (const de of meta.documents) {
      n++;
      const dp: DocumentProblem[] = [];
      const uri = de.URI ?? '';
      const actionRaw = (de.extraSlots[XDM_ACTION_SLOT]?.[0] ?? ssAction ?? '').trim().toUpperCase();
      const action = actionRaw === 'C' || actionRaw === 'D' ? actionRaw : null;
      if (actionRaw && !action) dp.push({ code: 'XDM_ACTION_UNKNOWN', severity: 'warning', message: `Action « ${actionRaw} » inconnue (attendu C ou D).` });
      const doc: XdmReadDocument = {
        uri,
        uniqueId: de.uniqueId,
        typeCode: de.typeCode.code,
        patientId: de.patientId,
        hashValid: false,
        sizeValid: false,
        action,
        problems: dp,
        mimeType: de.mimeType,
        title: de.title,
        entry: de,
      };
      documents.push(doc);
      if (ss && de.patientId && ss.patientId && de.patientId !== ss.patientId) {
        dp.push({ code: 'XDM_PATIENT_MISMATCH', severity: 'error', message: 'Le document ne concerne pas le même patient que le lot.' });
      }
      if (!uri) {
        dp.push({ code: 'XDM_URI_MISSING', severity: 'error', message: 'Métadonnée URI absente.' });
        continue;
      }
      const u = uri.replace(/\\/g, '/');
      if (u.startsWith('/') || /^[a-zA-Z]:/.test(u) || /^[a-z][a-z0-9+.-]*:\/\//i.test(u) || u.split('/').includes('..')) {
        dp.push({ code: 'XDM_URI_INVALID', severity: 'error', message: `URI non relative ou hors du sous-dossier : ${uri}` });
        continue;
      }
      const entry = byLower.get((subsetPath + u).toLowerCase());
      if (!entry) {
        dp.push({ code: 'XDM_DOCUMENT_MISSING', severity: 'error', message: `Le fichier ${uri} annoncé dans METADATA.XML est absent de l'archive.` });
        continue;
      }
      // In memory while within the budget (yauzl verifies the declared size while inflating), else to disk
      // under our own file name: never the archive's.
      const keep = entry.uncompressedSize <= memoryBudget - inMemory;
      const target = keep ? '' : path.join(ensureWorkDir(), `doc-${String(n).padStart(4, '0')}${/\.xml$/i.test(u) ? '.xml' : '.bin'}`);
      const cap = keep ? Math.min(limits.maxEntryUncompressed, memoryBudget - inMemory) : limits.maxEntryUncompressed;
      const hash = crypto.createHash('sha1');
      let size = 0;
      let bytes: Buffer | undefined;
      try {
        if (keep && zip) {
          bytes = inflateInMemory(zip, entry, cap);
          hash.update(bytes);
          size = bytes.length;
        } else {
          const chunks: Buffer[] = [];
          const s = await openStream(source, entry);
          // Never more than the central directory declares (yauzl checks it too; an archive held in memory is
          // inflated by zlib directly), and exactly that much, checked below.
          const counter = capped(Math.min(cap, entry.uncompressedSize), (c) => {
            hash.update(c);
            size += c.length;
            if (keep) chunks.push(c);
          });
          if (keep) {
            await pipeline(s, counter, async function* (src) {
              for await (const _ of src) void _;
            });
            bytes = Buffer.concat(chunks);
          } else {
            await pipeline(s, counter, fs.createWriteStream(target, { flags: 'wx' }));
          }
          if (size !== entry.uncompressedSize) throw new Error(`too many bytes or too few: expected ${entry.uncompressedSize}, got ${size}`);
        }
      } catch (err) {
        if (target) fs.rmSync(target, { force: true });
        if (err instanceof AppError) throw err;
        if (/too many bytes|expected \d+|size/i.test((err as Error).message)) {
          throw refuse('XDM_TOO_LARGE', UNSAFE, `${entry.fileName}: inflated size differs from its header (${(err as Error).message})`);
        }
        dp.push({ code: 'XDM_DOCUMENT_UNREADABLE', severity: 'error', message: `Le fichier ${uri} est illisible dans l'archive.`, where: (err as Error).message });
        continue;
      }
      if (bytes) {
        inMemory += bytes.length;
        doc.bytes = bytes;
      } else {
        doc.path = target;
      }
      const digest = hash.digest('hex');
      doc.hashValid = !!de.hash && de.hash.toLowerCase() === digest;
      doc.sizeValid = de.size !== undefined && de.size === size;
      if (!de.hash) dp.push({ code: 'XDM_HASH_MISSING', severity: 'error', message: 'Métadonnée hash absente.' });
      else if (!doc.hashValid) dp.push({ code: 'XDM_HASH_MISMATCH', severity: 'error', message: `Empreinte SHA-1 différente de celle annoncée pour ${uri} : document altéré.` });
      if (de.size === undefined) dp.push({ code: 'XDM_SIZE_MISSING', severity: 'error', message: 'Métadonnée size absente.' });
      else if (!doc.sizeValid) dp.push({ code: 'XDM_SIZE_MISMATCH', severity: 'error', message: `Taille différente de celle annoncée pour ${uri} (${size} au lieu de ${de.size}).` });
      if (/xml/i.test(de.mimeType) && size <= limits.maxParseBytes) {
        try {
          const parsed = parseCdaHeader(bytes ?? fs.readFileSync(target));
          doc.cda = parsed;
          const ins = parsed.header.patient.ins;
          const local = parsed.header.patient.ids;
          const pid = de.patientId.split('^')[0];
          if (pid && !(ins?.value === pid || local.some((i) => i.extension === pid))) {
            dp.push({ code: 'XDM_CDA_PATIENT_MISMATCH', severity: 'error', message: 'Le patient du document CDA ne correspond pas aux métadonnées.' });
          }
        } catch (err) {
          const code = err instanceof AppError ? err.code : 'CDA_INVALID';
          dp.push({ code: code === 'XML_INVALID' ? 'XDM_DOCUMENT_XML_INVALID' : 'XDM_DOCUMENT_NOT_CDA', severity: 'error', message: `Le fichier ${uri} n'est pas un document CDA lisible.`, where: err instanceof AppError ? err.detail : undefined });
        }
      }
    }
    return { submissionSet: ss, documents, problems, subsetPath, workDir, cleanup };
    } catch (err) {
      cleanup();
      throw err;
    }
  } finally {
    zf?.close();
  }
}
