/**
 * The central directory of a zip archive held in memory, read directly: received mails open one small archive
 * each, and yauzl's event and callback machinery cost more than reading their few entries (about 0.3 ms per
 * archive). The entries come out exactly as yauzl reports them (same fields, same file-name normalisation and
 * checks, same error messages for the same faults), so the caller applies one set of caps to either.
 *
 * Only the common case is read here: a single-disk archive without zip64 records, whose names are UTF-8 (flagged)
 * or ASCII. Anything else returns `undefined` and is left to yauzl.
 */
export interface ZipDirectoryEntry {
  fileName: string;
  generalPurposeBitFlag: number;
  compressionMethod: number;
  compressedSize: number;
  uncompressedSize: number;
  relativeOffsetOfLocalHeader: number;
}

export interface ZipDirectory {
  /** From the end-of-central-directory record: known before any entry is read (the entry-count cap). */
  entryCount: number;
  /** Reads the entries in order; throws at the first malformed one (after the caller saw the ones before it). */
  entries(): Generator<ZipDirectoryEntry>;
}

const EOCD = 0x06054b50;
const EOCD_SIZE = 22;
const CENTRAL = 0x02014b50;
const CENTRAL_SIZE = 46;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_LOCATOR_SIZE = 20;
const UTF8_FLAG = 0x800;

/** `undefined`: an archive this reader leaves to yauzl (zip64, legacy code-page names, Unicode path fields). */
export function readZipDirectory(zip: Buffer): ZipDirectory | undefined {
  const from = Math.max(0, zip.length - EOCD_SIZE - 0xffff);
  for (let i = zip.length - EOCD_SIZE; i >= from; i--) {
    if (zip.readUInt32LE(i) !== EOCD) continue;
    const commentLength = zip.readUInt16LE(i + 20);
    const expected = zip.length - i - EOCD_SIZE;
    if (commentLength !== expected) {
      throw new Error(`Invalid comment length. Expected: ${expected}. Found: ${commentLength}. Are there extra bytes at the end of the file?`);
    }
    if (i - ZIP64_LOCATOR_SIZE >= 0 && zip.readUInt32LE(i - ZIP64_LOCATOR_SIZE) === ZIP64_LOCATOR) return undefined;
    const disk = zip.readUInt16LE(i + 4);
    if (disk !== 0) throw new Error(`multi-disk zip files are not supported: found disk number: ${disk}`);
    const entryCount = zip.readUInt16LE(i + 10);
    const offset = zip.readUInt32LE(i + 16);
    if (entryCount === 0xffff || offset === 0xffffffff) return undefined;
    // Names that only yauzl decodes make the whole archive yauzl's: checked before any entry is handed out.
    if (!plainNames(zip, offset, entryCount)) return undefined;
    return { entryCount, entries: () => entries(zip, offset, entryCount) };
  }
  throw new Error('End of central directory record signature not found. Either not a zip file, or file is truncated.');
}

function need(zip: Buffer, at: number, n: number): void {
  if (at + n > zip.length) throw new Error('unexpected EOF');
}

/** Every name UTF-8-flagged or ASCII, no Unicode-path or zip64 extra field (a pre-scan, no allocation). */
function plainNames(zip: Buffer, offset: number, count: number): boolean {
  let at = offset;
  for (let k = 0; k < count; k++) {
    if (at + CENTRAL_SIZE > zip.length || zip.readUInt32LE(at) !== CENTRAL) return true; // the walk reports it
    const flag = zip.readUInt16LE(at + 8);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const name = at + CENTRAL_SIZE;
    if (name + nameLen + extraLen > zip.length) return true;
    if (!(flag & UTF8_FLAG)) {
      for (let j = name; j < name + nameLen; j++) if (zip[j]! >= 0x80) return false;
    }
    for (let x = name + nameLen; x + 4 <= name + nameLen + extraLen; ) {
      const id = zip.readUInt16LE(x);
      if (id === 0x0001 || id === 0x7075) return false;
      x += 4 + zip.readUInt16LE(x + 2);
    }
    at = name + nameLen + extraLen + commentLen;
  }
  return true;
}

function* entries(zip: Buffer, offset: number, count: number): Generator<ZipDirectoryEntry> {
  let at = offset;
  for (let k = 0; k < count; k++) {
    need(zip, at, CENTRAL_SIZE);
    const signature = zip.readUInt32LE(at);
    if (signature !== CENTRAL) throw new Error(`invalid central directory file header signature: 0x${signature.toString(16)}`);
    const generalPurposeBitFlag = zip.readUInt16LE(at + 8);
    const compressionMethod = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const uncompressedSize = zip.readUInt32LE(at + 24);
    const nameLen = zip.readUInt16LE(at + 28);
    const extraLen = zip.readUInt16LE(at + 30);
    const commentLen = zip.readUInt16LE(at + 32);
    const relativeOffsetOfLocalHeader = zip.readUInt32LE(at + 42);
    if (generalPurposeBitFlag & 0x40) throw new Error('strong encryption is not supported');
    need(zip, at + CENTRAL_SIZE, nameLen + extraLen + commentLen);
    const extraEnd = at + CENTRAL_SIZE + nameLen + extraLen;
    for (let x = at + CENTRAL_SIZE + nameLen; x < extraEnd - 3; ) {
      x += 4 + zip.readUInt16LE(x + 2);
      if (x > extraEnd) throw new Error('extra field length exceeds extra field buffer size');
    }
    const raw = zip.subarray(at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLen);
    // yauzl with strictFileNames off: backslashes read as slashes, then its name checks.
    const fileName = (generalPurposeBitFlag & UTF8_FLAG ? raw.toString('utf8') : raw.toString('latin1')).replace(/\\/g, '/');
    if (/^[a-zA-Z]:/.test(fileName) || fileName.startsWith('/')) throw new Error(`absolute path: ${fileName}`);
    if (fileName.split('/').includes('..')) throw new Error(`invalid relative path: ${fileName}`);
    if (compressionMethod === 0) {
      const expected = uncompressedSize + (generalPurposeBitFlag & 0x1 ? 12 : 0);
      if (compressedSize !== expected) throw new Error(`compressed/uncompressed size mismatch for stored file: ${compressedSize} != ${uncompressedSize}`);
    }
    at += CENTRAL_SIZE + nameLen + extraLen + commentLen;
    yield { fileName, generalPurposeBitFlag, compressionMethod, compressedSize, uncompressedSize, relativeOffsetOfLocalHeader };
  }
}
