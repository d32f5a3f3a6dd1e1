import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_SHARED } from '../../support/shared';
import { tempDir } from '../../support/tmp';
import { STATUS } from '../../../src/main/dmp/protocol';
import { startHarness, makeCda, PS_ID, type Harness } from './support';

const MARTIN = { ins: '185067512300159', insOid: '1.2.250.1.213.1.4.10' };
const DOMINIQUE = { ins: '279035121518989', insOid: '1.2.250.1.213.1.4.10' };

describe.skipIf(!HAS_SHARED)('DMP over mTLS: acceptance flow', () => {
  let h: Harness;
  let tmp: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    tmp = tempDir('lps-dmp-');
    h = await startHarness(tmp.dir);
  });
  afterAll(async () => {
    await h?.stop();
    tmp?.cleanup();
  });

  it('status → authorize → publish → search → mask → replace → delete', async () => {
    const c = h.client();
    const s0 = await c.status(MARTIN);
    expect(s0).toMatchObject({ dmp: 'ACTIF', authorization: 'NON_EXISTE' });
    const a = await c.setAuthorization(MARTIN);
    expect(a.status).toBe('OK');
    expect((await c.status(MARTIN)).authorization).toBe('VALIDE');

    const v1 = makeCda({ ins: MARTIN.ins, structureId: h.pki.org.structureId });
    const pub = await c.publish(v1.xml);
    expect(pub).toMatchObject({ uniqueId: v1.uniqueId, outcome: 'published' });

    let found = await c.find(MARTIN);
    expect(found.entries.map((e) => e.uniqueId)).toContain(v1.uniqueId);
    // the signature entry is hidden (MASQUE_PS) but visible to its author
    expect(found.entries.filter((e) => e.formatCode?.code === 'http://www.w3.org/2000/09/xmldsig#')).toHaveLength(1);

    const masked = await c.setVisibility(MARTIN, v1.uniqueId, { maskPs: true });
    expect(masked.confidentialityCodes.map((x) => x.code)).toContain('MASQUE_PS');
    found = await c.find(MARTIN);
    const e1 = found.entries.find((e) => e.uniqueId === v1.uniqueId)!;
    expect(e1.confidentialityCodes.map((x) => x.code)).toContain('MASQUE_PS');

    const v2 = makeCda({ ins: MARTIN.ins, structureId: h.pki.org.structureId, replaces: v1.uniqueId });
    const rep = await c.publish(v2.xml, { replaceUniqueId: v1.uniqueId });
    expect(rep.replacedEntryUuid).toBe(e1.entryUuid);
    const old = await c.getDocuments(MARTIN, { uniqueIds: [v1.uniqueId] });
    expect(old.entries.every((e) => e.status === STATUS.deprecated)).toBe(true);

    const got = await c.getDocument(MARTIN, v2.uniqueId);
    expect(got.data.equals(v2.xml)).toBe(true);

    await c.setStatus(MARTIN, v2.uniqueId, 'deleted');
    found = await c.find(MARTIN);
    expect(found.entries.map((e) => e.uniqueId)).not.toContain(v2.uniqueId);
  });

  it('closed DMP: publish fails with a French message', async () => {
    const c = h.client();
    const cda = makeCda({ ins: '266121357900485', structureId: h.pki.org.structureId });
    await expect(c.publish(cda.xml)).rejects.toMatchObject({ code: 'DMP_CLOSED', userMessage: expect.stringContaining('fermé') });
  });

  it('seeded imaging: search by modality, region and accession number', async () => {
    const c = h.client();
    const ct = await c.find(DOMINIQUE, { modalities: ['CT'] });
    expect(ct.entries.map((e) => e.mimeType).sort()).toEqual(['application/dicom', 'text/xml']);
    expect((await c.find(DOMINIQUE, { modalities: ['MR'] })).entries).toHaveLength(0);
    expect((await c.find(DOMINIQUE, { regions: ['774007'] })).entries).toHaveLength(2);
    const byAcc = await c.find(DOMINIQUE, { accessionNumbers: ['SBX-ACC-0001'] });
    expect(byAcc.entries).toHaveLength(2);
    void PS_ID;
  });
});
