import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCda, parseCda, readXdm, writeXdm, type ParsedCda } from '../../../src/main/documents';
import { HAS_SHARED, sharedPath } from '../../support/shared';
import { tempDir } from '../../support/tmp';
import { craftZip } from './zip-craft';

const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples');

function exampleDoc(): ParsedCda {
  const request = JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'cda-request.json'), 'utf8'));
  return buildCda(request, { baseDir: EXAMPLES }).parsed;
}

async function expectRefused(input: string | Buffer, code: string, workDir: string): Promise<void> {
  const before = fs.readdirSync(path.dirname(workDir));
  await expect(readXdm(input, { workDir })).rejects.toMatchObject({ code });
  // nothing left behind, nothing written beside the work dir
  expect(fs.readdirSync(workDir)).toEqual([]);
  expect(fs.readdirSync(path.dirname(workDir))).toEqual(before);
}

describe('IHE_XDM writer and reader', () => {
  let tmp: ReturnType<typeof tempDir>;
  let work: string;
  beforeAll(() => {
    tmp = tempDir('lps-xdm-');
    work = path.join(tmp.dir, 'work');
    fs.mkdirSync(work);
  });
  afterAll(() => tmp.cleanup());

  it('writes the CI-SIS layout and reads it back with valid hash/size and the action', async () => {
    const docs = [exampleDoc(), exampleDoc()];
    const w = await writeXdm(docs, { sourceId: '1.2.250.1.999.1', documents: [{ action: 'C' }] });
    const r = await readXdm(w.zip!, { workDir: work });
    try {
      expect(r.subsetPath).toBe('IHE_XDM/SUBSET01/');
      expect(r.submissionSet?.uniqueId).toBe(w.submission.submissionSet.uniqueId);
      expect(r.documents.map((d) => [d.uri, d.hashValid, d.sizeValid, d.action, d.problems.length])).toEqual([
        ['DOC0001.XML', true, true, 'C', 0],
        ['DOC0002.XML', true, true, null, 0],
      ]);
      expect(fs.readFileSync(r.documents[0]!.path!)).toEqual(docs[0]!.bytes);
      expect(r.documents[0]!.path!.startsWith(work)).toBe(true);
    } finally {
      r.cleanup();
    }
  });

  it('reports a wrong hash / size per document and keeps the other documents', async () => {
    const docs = [exampleDoc(), exampleDoc()];
    const w = await writeXdm(docs, { sourceId: '1.2.250.1.999.1' });
    const tampered = Buffer.from(docs[1]!.bytes);
    tampered[tampered.length - 3] = 0x20; // same size, different content
    const zip = craftZip([
      { name: 'IHE_XDM/SUBSET01/METADATA.XML', data: Buffer.from(w.metadataXml), deflate: true },
      { name: 'IHE_XDM/SUBSET01/DOC0001.XML', data: docs[0]!.bytes, deflate: true },
      { name: 'IHE_XDM/SUBSET01/DOC0002.XML', data: Buffer.concat([tampered, Buffer.from(' ')]), deflate: true },
    ]);
    const r = await readXdm(zip, { workDir: work });
    try {
      expect(r.documents[0]!.problems).toEqual([]);
      expect(r.documents[1]!.hashValid).toBe(false);
      expect(r.documents[1]!.sizeValid).toBe(false);
      expect(r.documents[1]!.problems.map((p) => p.code)).toEqual(expect.arrayContaining(['XDM_HASH_MISMATCH', 'XDM_SIZE_MISMATCH']));
    } finally {
      r.cleanup();
    }
  });

  it('tolerates other subset names, lower case and __MACOSX junk; reports a missing document', async () => {
    const doc = exampleDoc();
    const w = await writeXdm([doc, exampleDoc()], { sourceId: '1.2.250.1.999.1' });
    const meta = w.metadataXml;
    const zip = craftZip([
      { name: '__MACOSX/ihe_xdm/ss000001/._METADATA.xml', data: Buffer.from('junk') },
      { name: 'ihe_xdm/ss000001/metadata.xml', data: Buffer.from(meta) },
      { name: 'ihe_xdm/ss000001/doc0001.xml', data: doc.bytes },
    ]);
    const r = await readXdm(zip, { workDir: work });
    try {
      expect(r.documents[0]!.hashValid).toBe(true);
      expect(r.documents[1]!.problems.map((p) => p.code)).toEqual(['XDM_DOCUMENT_MISSING']);
    } finally {
      r.cleanup();
    }
  });

  it('flags a document that is not CDA (billion laughs inside a document) without refusing the archive', async () => {
    const doc = exampleDoc();
    const w = await writeXdm([doc], { sourceId: '1.2.250.1.999.1' });
    const evil = Buffer.from('<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><ClinicalDocument xmlns="urn:hl7-org:v3">&b;</ClinicalDocument>');
    const sha = (await import('node:crypto')).createHash('sha1').update(evil).digest('hex');
    const meta = w.metadataXml.replace(/(<rim:Slot name="hash"><rim:ValueList><rim:Value>)[0-9a-f]+/, `$1${sha}`).replace(/(<rim:Slot name="size"><rim:ValueList><rim:Value>)\d+/, `$1${evil.length}`);
    const r = await readXdm(craftZip([{ name: 'IHE_XDM/SUBSET01/METADATA.XML', data: Buffer.from(meta) }, { name: 'IHE_XDM/SUBSET01/DOC0001.XML', data: evil }]), { workDir: work });
    try {
      expect(r.documents[0]!.hashValid).toBe(true);
      expect(r.documents[0]!.problems.map((p) => p.code)).toEqual(['XDM_DOCUMENT_XML_INVALID']);
    } finally {
      r.cleanup();
    }
  });

  describe.skipIf(!HAS_SHARED)('real data', () => {
    it('reads the NIST xdm_minimal.zip (SUBSET, lower-case METADATA.xml, __MACOSX/)', async () => {
      const r = await readXdm(sharedPath('fixtures', 'xdm-nist', 'minimal', 'xdm_minimal.zip'), { workDir: work });
      try {
        expect(r.subsetPath).toBe('IHE_XDM/SUBSET/');
        expect(r.submissionSet?.uniqueId).toBeTruthy();
        expect(r.documents).toHaveLength(1);
        expect(r.documents[0]).toMatchObject({ uri: 'DOC.TXT', hashValid: true, sizeValid: true, problems: [] });
      } finally {
        r.cleanup();
      }
    });
  });

  describe('hostile archives are refused with a specific error', () => {
    const meta = () => Buffer.from('<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"/>');

    it('not a zip', async () => {
      await expectRefused(Buffer.from('%PDF-1.4 definitely not a zip archive, just bytes'), 'XDM_NOT_ZIP', work);
    });
    it('zip slip', async () => {
      await expectRefused(craftZip([{ name: 'IHE_XDM/SUBSET01/METADATA.XML', data: meta() }, { name: 'IHE_XDM/SUBSET01/../../../evil.sh', data: Buffer.from('x') }]), 'XDM_ZIP_SLIP', work);
      await expectRefused(craftZip([{ name: 'IHE_XDM\\..\\..\\evil.sh', data: Buffer.from('x') }]), 'XDM_ZIP_SLIP', work);
    });
    it('absolute paths', async () => {
      await expectRefused(craftZip([{ name: '/tmp/evil.sh', data: Buffer.from('x') }]), 'XDM_ABSOLUTE_PATH', work);
      await expectRefused(craftZip([{ name: 'C:/Windows/evil.bat', data: Buffer.from('x') }]), 'XDM_ABSOLUTE_PATH', work);
    });
    it('zip bomb (high ratio) and lying sizes, with bounded memory', async () => {
      const rss0 = process.memoryUsage().rss;
      const zeros = Buffer.alloc(64 * 1024 * 1024);
      const bomb = craftZip([{ name: 'IHE_XDM/SUBSET01/METADATA.XML', data: zeros, deflate: true }]);
      await expectRefused(bomb, 'XDM_RATIO', work);
      const w = await writeXdm([exampleDoc()], { sourceId: '1.2.250.1.999.1' });
      const liar = craftZip([
        { name: 'IHE_XDM/SUBSET01/METADATA.XML', data: Buffer.from(w.metadataXml) },
        { name: 'IHE_XDM/SUBSET01/DOC0001.XML', data: zeros, deflate: true, declaredSize: 1000 },
      ]);
      const metaLiar = craftZip([{ name: 'IHE_XDM/SUBSET01/METADATA.XML', data: zeros, deflate: true, declaredSize: 1000 }]);
      await expect(readXdm(metaLiar, { workDir: work, limits: { maxMetadataBytes: 1024 * 1024 } })).rejects.toMatchObject({ code: 'XDM_TOO_LARGE' });
      await expectRefused(liar, 'XDM_TOO_LARGE', work);
      expect(process.memoryUsage().rss - rss0).toBeLessThan(400 * 1024 * 1024);
    });
    it('billion laughs and external entities in METADATA.XML', async () => {
      const laughs = '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">&lol2;</lcm:SubmitObjectsRequest>';
      await expectRefused(craftZip([{ name: 'IHE_XDM/SUBSET01/METADATA.XML', data: Buffer.from(laughs) }]), 'XDM_METADATA_INVALID', work);
      const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0">&x;</lcm:SubmitObjectsRequest>';
      await expectRefused(craftZip([{ name: 'IHE_XDM/SUBSET01/METADATA.XML', data: Buffer.from(xxe) }]), 'XDM_METADATA_INVALID', work);
    });
    it('200 000 entries', async () => {
      const entries = Array.from({ length: 200_000 }, (_, i) => ({ name: `f${i}` }));
      await expectRefused(craftZip(entries), 'XDM_TOO_MANY_ENTRIES', work);
    });
    it('no METADATA.XML', async () => {
      await expectRefused(craftZip([{ name: 'README.TXT', data: Buffer.from('x') }]), 'XDM_NO_METADATA', work);
    });
  });
});
