import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCda, parseCda } from '../../../src/main/documents';
import { buildCdaFromPdf, documentTypes, type ShareAuthor } from '../../../src/main/sharing/document';
import { checkOf } from '../../../src/main/sharing/service';
import type { Patient } from '../../../src/shared/api/patients';
import { HAS_SHARED } from '../../support/shared';

const PDF = fs.readFileSync(path.resolve(__dirname, '../../../examples/body.pdf'));
const patient: Patient = {
  id: 1, ins: '279035121518989', insOid: '1.2.250.1.213.1.4.10', insQualified: true, birthFamily: 'PAT-TROIS', birthGivens: 'DOMINIQUE MARIE-LOUISE', firstGiven: 'DOMINIQUE',
  usedFamily: null, usedGiven: null, gender: 'F', birthDate: '1979-03-28', birthPlace: null, ipp: null, ippOid: null, source: 'local', createdAt: '', updatedAt: '',
};
const author: ShareAuthor = { nationalId: '899700012345', family: 'DURAND', given: 'Claire', professionCode: '10', organization: { id: '3990000001', name: 'CABINET MEDICAL DU BAC A SABLE' }, facilityType: 'SA07' };

describe('Y mode: the CDA built around a PDF held in memory', () => {
  it('embeds exactly the PDF, with the patient, the practitioner and the J07 type', () => {
    const { bytes, parsed } = buildCdaFromPdf({ pdf: PDF, patient, author, typeCode: '11488-4', title: 'Compte rendu de consultation', date: '2026-05-04' });
    expect(parsed.body.kind).toBe('pdf');
    expect(parsed.body.kind === 'pdf' && parsed.body.pdf.equals(PDF)).toBe(true);
    expect(bytes.toString('utf8')).not.toContain('text/plain');
    const h = parseCda(bytes).header;
    expect(h.patient.ins?.value).toBe('279035121518989');
    expect(h.authors[0]?.id?.extension).toBe('899700012345');
    expect(h.authors[0]?.organization?.name).toBe('CABINET MEDICAL DU BAC A SABLE');
    expect(h.typeCode.code).toBe('11488-4');
    expect(h.serviceEvents[0]?.start?.slice(0, 10)).toBe('2026-05-04');
  });

  it.skipIf(!HAS_SHARED)('validates against the CDA schema and the CI-SIS header rules', async () => {
    const { bytes } = buildCdaFromPdf({ pdf: PDF, patient, author, typeCode: '11488-4', title: 'Compte rendu de consultation', date: '2026-05-04' });
    const r = await checkCda(bytes.toString('utf8'));
    expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('refuses what is not a PDF, an unknown type, and an unqualified INS without IPP', () => {
    expect(() => buildCdaFromPdf({ pdf: Buffer.from('<html>hello</html>'), patient, author, typeCode: '11488-4', title: 't', date: '2026-05-04' })).toThrow(expect.objectContaining({ code: 'SHARE_NOT_PDF' }));
    expect(() => buildCdaFromPdf({ pdf: PDF, patient, author, typeCode: '99999-9', title: 't', date: '2026-05-04' })).toThrow(expect.objectContaining({ code: 'SHARE_TYPE_UNKNOWN' }));
    expect(() => buildCdaFromPdf({ pdf: PDF, patient: { ...patient, insQualified: false }, author, typeCode: '11488-4', title: 't', date: '2026-05-04' })).toThrow(expect.objectContaining({ code: 'SHARE_INS_NOT_QUALIFIED' }));
  });

  it('offers the J07 types with French labels, the common ones first', () => {
    const t = documentTypes();
    expect(t[0]).toMatchObject({ code: '11488-4', common: true });
    expect(t.length).toBeGreaterThan(50);
    expect(new Set(t.map((x) => x.code)).size).toBe(t.length);
  });

  it('turns every TD0.2 state into a wizard state', () => {
    const base = { ins: '1', insOid: '1', treatingPhysician: false, advice: 'x' };
    expect(checkOf({ ...base, dmp: 'INEXISTANT', authorization: 'VALIDE' }).state).toBe('no-dmp');
    expect(checkOf({ ...base, dmp: 'FERME', authorization: 'VALIDE' }).state).toBe('closed');
    expect(checkOf({ ...base, dmp: 'ACTIF', authorization: 'VALIDE' })).toMatchObject({ state: 'ready', canPublish: true });
    expect(checkOf({ ...base, dmp: 'ACTIF', authorization: 'NON_EXISTE' })).toMatchObject({ state: 'authorization-missing', canAuthorize: true, canPublish: false });
    expect(checkOf({ ...base, dmp: 'ACTIF', authorization: 'EXPIRE' })).toMatchObject({ state: 'authorization-expired', canAuthorize: true });
    expect(checkOf({ ...base, dmp: 'ACTIF', authorization: 'INTERDIT' })).toMatchObject({ state: 'forbidden', canAuthorize: false });
  });
});
