import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCda, readXdm, writeXdm, type ParsedCda } from '../../../src/main/documents';
import { tempDir } from '../../support/tmp';
import { craftZip } from './zip-craft';

/** readXdm's in-memory mode (small archives read in bulk, e.g. received mails): same checks, no temporary files. */
const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples');

function exampleDoc(): ParsedCda {
  const request = JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'cda-request.json'), 'utf8'));
  return buildCda(request, { baseDir: EXAMPLES }).parsed;
}

describe('IHE_XDM reader, in memory', () => {
  let tmp: ReturnType<typeof tempDir>;
  let work: string;
  beforeAll(() => {
    tmp = tempDir('lps-xdm-mem-');
    work = path.join(tmp.dir, 'work');
    fs.mkdirSync(work);
  });
  afterAll(() => tmp.cleanup());

  it('keeps the documents in memory within the budget, verified and parsed once, touching no disk', async () => {
    const docs = [exampleDoc(), exampleDoc()];
    const w = await writeXdm(docs, { sourceId: '1.2.250.1.999.1' });
    const r = await readXdm(w.zip!, { workDir: work, inMemoryMaxBytes: 16 * 1024 * 1024 });
    try {
      expect(r.workDir).toBe('');
      expect(fs.readdirSync(work)).toEqual([]);
      for (const [i, d] of r.documents.entries()) {
        expect(d.path).toBeUndefined();
        expect(d.bytes).toEqual(docs[i]!.bytes);
        expect([d.hashValid, d.sizeValid, d.problems]).toEqual([true, true, []]);
        expect(d.cda?.header.id).toEqual(docs[i]!.header.id);
      }
    } finally {
      r.cleanup();
    }
  });

  it('spills to the work dir once the budget is used up', async () => {
    const docs = [exampleDoc(), exampleDoc()];
    const w = await writeXdm(docs, { sourceId: '1.2.250.1.999.1' });
    const r = await readXdm(w.zip!, { workDir: work, inMemoryMaxBytes: docs[0]!.bytes.length + 10 });
    try {
      expect(r.documents[0]!.bytes).toEqual(docs[0]!.bytes);
      expect(r.documents[1]!.bytes).toBeUndefined();
      expect(fs.readFileSync(r.documents[1]!.path!)).toEqual(docs[1]!.bytes);
      expect(r.documents.every((d) => d.hashValid && d.sizeValid)).toBe(true);
    } finally {
      r.cleanup();
    }
    expect(fs.readdirSync(work)).toEqual([]);
  });

  it('still refuses an entry whose headers lie about its size, and a tampered document', async () => {
    const doc = exampleDoc();
    const w = await writeXdm([doc], { sourceId: '1.2.250.1.999.1' });
    const bomb = craftZip([
      { name: 'IHE_XDM/SUBSET01/METADATA.XML', data: Buffer.from(w.metadataXml), deflate: true },
      { name: 'IHE_XDM/SUBSET01/DOC0001.XML', data: Buffer.alloc(8 * 1024 * 1024, 0x20), deflate: true, declaredSize: doc.bytes.length },
    ]);
    await expect(readXdm(bomb, { workDir: work, inMemoryMaxBytes: 16 * 1024 * 1024 })).rejects.toMatchObject({ code: 'XDM_TOO_LARGE' });
    const tampered = Buffer.from(doc.bytes);
    tampered[tampered.length - 3] = 0x20;
    const zip = craftZip([
      { name: 'IHE_XDM/SUBSET01/METADATA.XML', data: Buffer.from(w.metadataXml), deflate: true },
      { name: 'IHE_XDM/SUBSET01/DOC0001.XML', data: tampered, deflate: true },
    ]);
    const r = await readXdm(zip, { workDir: work, inMemoryMaxBytes: 16 * 1024 * 1024 });
    expect(r.documents[0]!.hashValid).toBe(false);
    expect(r.documents[0]!.problems.map((p) => p.code)).toContain('XDM_HASH_MISMATCH');
    r.cleanup();
    expect(fs.readdirSync(work)).toEqual([]);
  });
});
