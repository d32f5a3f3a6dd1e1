import fs from 'node:fs';
import path from 'node:path';
import yauzl, { type Entry } from 'yauzl';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCda, readXdm, writeXdm, type ParsedCda } from '../../../src/main/documents';
import { readZipDirectory } from '../../../src/main/documents/zip-directory';
import { HAS_SHARED, sharedPath } from '../../support/shared';
import { tempDir } from '../../support/tmp';
import { craftZip } from './zip-craft';

/**
 * The direct central-directory reader must report what yauzl reports for the same archive — the same entries
 * with the same fields, or a failure where yauzl fails — and leave to yauzl what it does not read itself.
 */
const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples');

function exampleDoc(): ParsedCda {
  const request = JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'cda-request.json'), 'utf8'));
  return buildCda(request, { baseDir: EXAMPLES }).parsed;
}

const FIELDS = ['fileName', 'generalPurposeBitFlag', 'compressionMethod', 'compressedSize', 'uncompressedSize', 'relativeOffsetOfLocalHeader'] as const;
type Listing = { entries: Record<string, unknown>[] } | { error: string };

function pick(e: object): Record<string, unknown> {
  return Object.fromEntries(FIELDS.map((k) => [k, (e as Record<string, unknown>)[k]]));
}

function byYauzl(zip: Buffer): Promise<Listing> {
  return new Promise((resolve) => {
    yauzl.fromBuffer(zip, { lazyEntries: true, decodeStrings: true, strictFileNames: false, validateEntrySizes: true }, (err, zf) => {
      if (err || !zf) return resolve({ error: err?.message ?? 'no zip' });
      const entries: Record<string, unknown>[] = [];
      zf.on('entry', (e: Entry) => {
        entries.push(pick(e));
        zf.readEntry();
      });
      zf.on('end', () => resolve({ entries }));
      zf.on('error', (e: Error) => resolve({ error: e.message }));
      zf.readEntry();
    });
  });
}

function direct(zip: Buffer): Listing | undefined {
  try {
    const dir = readZipDirectory(zip);
    if (!dir) return undefined;
    const entries = [...dir.entries()].map(pick);
    expect(dir.entryCount).toBe(entries.length);
    return { entries };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** yauzl's message up to its first sentence break (ours names the same fault without the long hint). */
const gist = (l: Listing) => ('error' in l ? { error: l.error.split(/[.?]\s/)[0] } : l);

describe('zip central directory read in memory', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeAll(() => {
    tmp = tempDir('lps-zipdir-');
  });
  afterAll(() => tmp.cleanup());

  const x = (s: string) => Buffer.from(s);
  // An extended-timestamp extra field (0x5455), as Info-ZIP and 7-Zip write them.
  const timestamp = Buffer.from([0x55, 0x54, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]);

  it('lists what yauzl lists, and fails where yauzl fails', async () => {
    const w1 = await writeXdm([exampleDoc()], { sourceId: '1.2.250.1.999.1', companionPdfs: true });
    const w2 = await writeXdm([exampleDoc(), exampleDoc()], { sourceId: '1.2.250.1.999.1' });
    const good = craftZip([{ name: 'IHE_XDM/SUBSET01/METADATA.XML', data: x('<a/>'), deflate: true }, { name: 'IHE_XDM/SUBSET01/DOC0001.XML', data: x('<b/>') }]);
    const cases: Record<string, Buffer> = {
      'writeXdm, one document and its PDF': w1.zip!,
      'writeXdm, two documents': w2.zip!,
      'extra fields': craftZip([{ name: 'IHE_XDM/SUBSET01/METADATA.XML', data: x('<a/>'), extra: timestamp }, { name: 'README.TXT', data: x('r'), extra: timestamp }]),
      'archive comment': craftZip([{ name: 'README.TXT', data: x('r') }], { comment: 'made by hand' }),
      'backslashes read as slashes': craftZip([{ name: 'IHE_XDM\\SUBSET01\\METADATA.XML', data: x('<a/>') }]),
      'ASCII name without the UTF-8 flag': craftZip([{ name: 'README.TXT', legacyName: x('README.TXT'), data: x('r') }]),
      'zip slip': craftZip([{ name: 'IHE_XDM/../../evil.sh', data: x('x') }]),
      'zip slip, backslashes': craftZip([{ name: 'IHE_XDM\\..\\..\\evil.sh', data: x('x') }]),
      'absolute path': craftZip([{ name: '/tmp/evil.sh', data: x('x') }]),
      'drive letter': craftZip([{ name: 'C:/Windows/evil.bat', data: x('x') }]),
      'stored entry whose sizes differ': craftZip([{ name: 'README.TXT', data: x('abc'), declaredSize: 10 }]),
      'bytes after the end record': craftZip([{ name: 'README.TXT', data: x('r') }], { trailing: x('garbage') }),
      'extra field longer than its room': craftZip([{ name: 'README.TXT', data: x('r'), extra: Buffer.from([0x55, 0x54, 0x40, 0x00, 0x01]) }]),
      'more entries announced than written': (() => {
        const z = Buffer.from(good);
        z.writeUInt16LE(3, z.length - 12);
        return z;
      })(),
      'not a zip': x('%PDF-1.4 definitely not a zip archive, just bytes'),
      empty: Buffer.alloc(0),
      'no entries': craftZip([]),
    };
    if (HAS_SHARED) cases['NIST xdm_minimal.zip'] = fs.readFileSync(sharedPath('fixtures', 'xdm-nist', 'minimal', 'xdm_minimal.zip'));
    const failures: string[] = [];
    for (const [name, zip] of Object.entries(cases)) {
      const mine = direct(zip);
      expect(mine, `${name}: read directly`).toBeDefined();
      const theirs = await byYauzl(zip);
      if (JSON.stringify(gist(mine!)) !== JSON.stringify(gist(theirs))) failures.push(`${name}:\n  direct ${JSON.stringify(mine)}\n  yauzl  ${JSON.stringify(theirs)}`);
    }
    expect(failures).toEqual([]);
    // the cases above do exercise both outcomes
    expect(Object.keys(cases).filter((k) => 'error' in direct(cases[k]!)!)).toHaveLength(10);
  });

  it('leaves legacy code-page names, Unicode path fields and zip64 archives to yauzl, and readXdm still reads them', async () => {
    const doc = exampleDoc();
    const w = await writeXdm([doc], { sourceId: '1.2.250.1.999.1' });
    const meta = { name: 'IHE_XDM/SUBSET01/METADATA.XML', data: Buffer.from(w.metadataXml), deflate: true };
    const cda = { name: 'IHE_XDM/SUBSET01/DOC0001.XML', data: doc.bytes, deflate: true };
    // "é" in code page 437 (0x82), in a file beside the documents.
    const legacy = craftZip([meta, cda, { name: 'x', legacyName: Buffer.from([0x4c, 0x49, 0x53, 0x45, 0x5a, 0x82, 0x2e, 0x54, 0x58, 0x54]), data: x('r') }]);
    const unicodePath = craftZip([meta, cda, { name: 'README.TXT', data: x('r'), extra: Buffer.from([0x75, 0x70, 0x06, 0x00, 0x01, 0, 0, 0, 0, 0x41]) }]);
    expect(readZipDirectory(legacy)).toBeUndefined();
    expect(readZipDirectory(unicodePath)).toBeUndefined();
    const theirs = await byYauzl(legacy);
    expect('entries' in theirs && theirs.entries.map((e) => e.fileName)).toContain('LISEZé.TXT');
    for (const zip of [legacy, unicodePath]) {
      const r = await readXdm(zip, { workDir: tmp.dir, inMemoryMaxBytes: 1 << 20 });
      expect(r.documents.map((d) => [d.hashValid, d.sizeValid, d.problems])).toEqual([[true, true, []]]);
      r.cleanup();
    }
    // zip64: the end records of craftZip's archive of 65 535 entries and more (readXdm refuses it for the count).
    const many = craftZip(Array.from({ length: 0xffff }, (_, i) => ({ name: `f${i}` })));
    expect(readZipDirectory(many)).toBeUndefined();
  });

  it('an archive held in memory that spills a document to disk still stops at the size its header declares', async () => {
    const doc = exampleDoc();
    const w = await writeXdm([doc], { sourceId: '1.2.250.1.999.1' });
    const liar = craftZip([
      { name: 'IHE_XDM/SUBSET01/METADATA.XML', data: Buffer.from(w.metadataXml), deflate: true },
      { name: 'IHE_XDM/SUBSET01/DOC0001.XML', data: Buffer.alloc(64 * 1024 * 1024, 0x20), deflate: true, declaredSize: doc.bytes.length },
    ]);
    const work = path.join(tmp.dir, 'spill');
    fs.mkdirSync(work);
    // a budget below the document's size: it is inflated as a stream into the work dir, not in one call
    await expect(readXdm(liar, { workDir: work, inMemoryMaxBytes: 100 })).rejects.toMatchObject({ code: 'XDM_TOO_LARGE' });
    expect(fs.readdirSync(work)).toEqual([]);
    const short = craftZip([
      { name: 'IHE_XDM/SUBSET01/METADATA.XML', data: Buffer.from(w.metadataXml), deflate: true },
      { name: 'IHE_XDM/SUBSET01/DOC0001.XML', data: doc.bytes.subarray(0, 100), deflate: true, declaredSize: doc.bytes.length },
    ]);
    await expect(readXdm(short, { workDir: work, inMemoryMaxBytes: 100 })).rejects.toMatchObject({ code: 'XDM_TOO_LARGE' });
    expect(fs.readdirSync(work)).toEqual([]);
  });
});
