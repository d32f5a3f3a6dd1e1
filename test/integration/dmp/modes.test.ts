import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_SHARED } from '../../support/shared';
import { tempDir } from '../../support/tmp';
import { DMP_ERRORS } from '../../../src/main/dmp/faults';
import { pemSigning } from '../../../src/main/dmp/signing';
import { makeCda, PS_ID, startHarness, type Harness } from './support';

const DOMINIQUE = { ins: '279035121518989', insOid: '1.2.250.1.213.1.4.10' };

describe.skipIf(!HAS_SHARED)('DMP: direct mode, TD3.1 variants, TD3.2 with several documents', () => {
  let h: Harness;
  let tmp: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    tmp = tempDir('lps-dmp-modes-');
    h = await startHarness(tmp.dir);
  });
  afterAll(async () => {
    await h?.stop();
    tmp?.cleanup();
  });

  const direct = () => {
    const pem = (f: string) => fs.readFileSync(f, 'utf8');
    const base = h.client().cfg;
    return h.client({
      tlsCert: h.pki.ps.cert,
      tlsKey: h.pki.ps.key,
      // the card's signature key signs the submission set; the VIHF travels unsigned (allowed in direct mode)
      signing: pemSigning({ keyPem: pem(h.pki.ps.key), certPem: pem(h.pki.ps.cert) }),
      vihf: { ...base.vihf, mode: 'DIRECTE' },
    });
  };

  it('direct mode: unsigned VIHF accepted; the author rule uses the PS national id (authorPerson)', async () => {
    const c = direct();
    expect((await c.status(DOMINIQUE)).authorization).toBe('VALIDE');
    // the fixture's author person is 801234534765: not the card holder → refused
    const notMine = makeCda({ ins: DOMINIQUE.ins, structureId: h.pki.org.structureId });
    await expect(c.publish(notMine.xml)).rejects.toMatchObject({ code: 'DMP_NOT_AUTHOR', userMessage: DMP_ERRORS.DMP_NOT_AUTHOR });
    const mine = makeCda({ ins: DOMINIQUE.ins, structureId: h.pki.org.structureId });
    const xml = Buffer.from(mine.xml.toString('utf8').replace(/extension="801234534765"/g, `extension="${PS_ID}"`));
    expect((await c.publish(xml)).outcome).toBe('published');
    // a NameID that is not the card's is refused
    await expect(h.client({ tlsCert: h.pki.ps.cert, tlsKey: h.pki.ps.key, vihf: { ...c.cfg.vihf, nameId: '810009999999' } }).status(DOMINIQUE)).rejects.toMatchObject({ code: 'DMP_SECURITY' });
  });

  it('TD3.1: type filter, ObjectRef results, creation time range', async () => {
    const c = h.client();
    const cr = await c.find(DOMINIQUE, { typeCodes: ['18748-4'] });
    expect(cr.entries.length).toBeGreaterThanOrEqual(1);
    expect(cr.entries.every((e) => e.typeCode?.code === '18748-4')).toBe(true);
    const refs = await c.find(DOMINIQUE, { modalities: ['CT'] }, 'ObjectRef');
    expect(refs.entries).toHaveLength(0);
    expect(refs.objectRefs).toHaveLength(2);
    expect(refs.objectRefs.every((r) => r.startsWith('urn:uuid:'))).toBe(true);
    expect((await c.find(DOMINIQUE, { modalities: ['CT'], creationFrom: '2021', creationTo: '2022' })).entries).toHaveLength(2);
    expect((await c.find(DOMINIQUE, { modalities: ['CT'], creationFrom: '2022' })).entries).toHaveLength(0);
  });

  it('TD3.2: several documents in one MTOM response, partial success reported', async () => {
    const c = h.client();
    const img = await c.find(DOMINIQUE, { modalities: ['CT'] });
    const reqs = img.entries.map((e) => ({ uniqueId: e.uniqueId, repositoryUniqueId: e.repositoryUniqueId! }));
    const { documents: docs, missing: none } = await c.retrieve(DOMINIQUE, reqs);
    expect(none).toEqual([]);
    expect(docs.map((d) => d.mimeType).sort()).toEqual(['application/dicom', 'text/xml']);
    const kos = docs.find((d) => d.mimeType === 'application/dicom')!;
    expect(kos.data.subarray(128, 132).toString()).toBe('DICM');
    // one unknown: the registry answers PartialSuccess with the known one
    const partial = await c.retrieve(DOMINIQUE, [reqs[0]!, { uniqueId: '1.2.3.4.5', repositoryUniqueId: reqs[0]!.repositoryUniqueId }]);
    expect(partial.documents.map((d) => d.uniqueId)).toEqual([reqs[0]!.uniqueId]);
    expect(partial.missing).toEqual([{ uniqueId: '1.2.3.4.5', code: 'DMP_DOCUMENT_UNKNOWN', message: DMP_ERRORS.DMP_DOCUMENT_UNKNOWN }]);
  });
});
