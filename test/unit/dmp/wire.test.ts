import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HAS_SHARED, sharedPath } from '../../support/shared';
import { DMP_ERRORS } from '../../../src/main/dmp/faults';
import { entryFromCda, entryFromDocuments } from '../../../src/main/dmp/metadata';
import { buildMtom, parseMultipart } from '../../../src/main/dmp/mtom';
import { ACTIONS } from '../../../src/main/dmp/protocol';
import { validateXdsBody } from '../../../src/main/dmp/schema';
import { buildFault, buildRequestEnvelope, faultOf, parseEnvelope } from '../../../src/main/dmp/soap';
import { buildTd02Request, buildTd02Response, parseTd02Request, parseTd02Response } from '../../../src/main/dmp/td0';
import { redactEnvelope } from '../../../src/main/dmp/transport';
import { buildVihf, parseVihf } from '../../../src/main/dmp/vihf';
import { buildAdhocQuery, parseAdhocQuery, parseQueryValue } from '../../../src/main/dmp/xds-messages';
import { parseXml } from '../../../src/main/xml/safe-xml';

describe('MTOM/XOP', () => {
  it('round-trips binary parts (CRLF, dashes, boundary-like bytes) and finds the start part', () => {
    const nasty = Buffer.concat([Buffer.from('\r\n--MIMEBoundary_fake\r\n\r\n'), Buffer.from([0, 255, 13, 10, 45, 45])]);
    const m = buildMtom('<e/>', [{ cid: 'a@x', contentType: 'application/octet-stream', data: nasty }, { cid: 'b@x', contentType: 'text/xml', data: Buffer.from('<b/>') }], ACTIONS.td21);
    expect(m.contentType).toMatch(/^multipart\/related; boundary="[^"]+"; type="application\/xop\+xml"; start="<[^>]+>"; start-info="application\/soap\+xml"/);
    const p = parseMultipart(m.contentType, m.body);
    expect(p.root.toString()).toBe('<e/>');
    expect(p.parts.get('a@x')!.data.equals(nasty)).toBe(true);
    expect(p.parts.get('b@x')!.data.toString()).toBe('<b/>');
  });
  it('decodes base64 parts and refuses non-multipart', () => {
    const body = Buffer.from('--B\r\nContent-Type: application/xop+xml\r\nContent-ID: <r>\r\n\r\n<e/>\r\n--B\r\nContent-ID: <d>\r\nContent-Transfer-Encoding: base64\r\n\r\nAAEC\r\n--B--\r\n');
    const p = parseMultipart('multipart/related; boundary=B; start="<r>"', body);
    expect([...p.parts.get('d')!.data]).toEqual([0, 1, 2]);
    expect(() => parseMultipart('application/soap+xml', body)).toThrow(/multipart/);
  });
});

describe('SOAP 1.2 envelope and faults', () => {
  it('puts WS-Addressing headers (mustUnderstand) and the VIHF in wsse:Security', () => {
    const { xml, messageId } = buildRequestEnvelope({ action: ACTIONS.td31, to: 'https://x/registry', assertionXml: '<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_1"/>', bodyXml: '<b xmlns="urn:x"/>' });
    const env = parseEnvelope(xml);
    expect(env).toMatchObject({ action: ACTIONS.td31, to: 'https://x/registry', messageId });
    expect(messageId).toMatch(/^urn:uuid:[0-9a-f-]{36}$/);
    expect(env.assertion?.getAttribute('ID')).toBe('_1');
    expect(xml).toContain('<wsa:Action soap:mustUnderstand="true">');
  });
  it('a fault becomes the French message of its code, with the technical detail', () => {
    const err = faultOf(parseEnvelope(buildFault('DMP_CLOSED', 'DMP 123 closed', 'urn:uuid:1')));
    expect(err).toMatchObject({ code: 'DMP_CLOSED', userMessage: DMP_ERRORS.DMP_CLOSED });
    expect(err!.detail).toContain('DMP 123 closed');
  });
  it('an unknown service code keeps the service text for the user', () => {
    const xml = buildFault('DMP_CLOSED', 'x').replace('dmp:DMP_CLOSED', 'dmp:ERREUR_INCONNUE').replace(DMP_ERRORS.DMP_CLOSED, 'Texte du service');
    expect(faultOf(parseEnvelope(xml))).toMatchObject({ code: 'DMP_SERVICE_ERROR', userMessage: 'Le DMP a refusé la demande : Texte du service' });
  });
  it('refuses DTDs (XXE) in a response', () => {
    expect(() => parseEnvelope('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')).toThrow(/DOCTYPE/);
  });
});

describe('TD0.2 HL7v3', () => {
  it('request carries TEST_EXST and the INS; every status round-trips', () => {
    const req = parseXml(buildTd02Request('279035121518989', '1.2.250.1.213.1.4.10', '1.2.3')).documentElement!;
    expect(parseTd02Request(req)).toEqual({ ins: '279035121518989', insOid: '1.2.250.1.213.1.4.10' });
    for (const dmp of ['ACTIF', 'FERME', 'INEXISTANT'] as const) {
      for (const authorization of ['VALIDE', 'EXPIRE', 'NON_EXISTE', 'INTERDIT'] as const) {
        const x = buildTd02Response(undefined, { ins: '1', insOid: '2', dmp, authorization, treatingPhysician: true, ...(dmp === 'FERME' ? { closureDate: '20240101', closureReason: 'Décès' } : {}) });
        const r = parseTd02Response(parseXml(x).documentElement!, '1', '2');
        expect(r).toMatchObject({ dmp, authorization, treatingPhysician: true, ack: 'AA' });
        if (dmp === 'FERME') expect(r).toMatchObject({ closureDate: '20240101', closureReason: 'Décès' });
      }
    }
  });
});

describe('VIHF', () => {
  it('carries every required attribute and parses back', () => {
    const { xml } = buildVihf({
      mode: 'INDIRECTE_RENFORCEE', issuerDn: 'CN=SIGN,OU=10B,O=Cab,C=FR', nameId: '810001234567', subjectName: 'Dr Test', sector: 'SA07', structureId: '10B',
      roles: [{ code: '10', codeSystem: '1.2.250.1.71.1.2.7' }], patient: { ins: '279035121518989', insOid: '1.2.250.1.213.1.4.10' },
      lps: { id: 'L', name: 'N', version: 'V', homologation: 'H' }, invisibleToLegalReps: true,
    });
    const v = parseVihf(parseXml(xml).documentElement!);
    expect(v).toMatchObject({ nameId: '810001234567', mode: 'INDIRECTE_RENFORCEE', structureId: '10B', patient: { ins: '279035121518989' }, purposeOfUse: 'normal', invisibleToLegalReps: true, signed: false });
    expect(v.roles[0]).toMatchObject({ code: '10', codeSystem: '1.2.250.1.71.1.2.7' });
    expect(v.notOnOrAfter!.getTime()).toBeGreaterThan(Date.now());
  });
});

describe('stored queries', () => {
  it('parses quoted value lists', () => {
    expect(parseQueryValue("('a','b''c', 'd')")).toEqual(['a', "b'c", 'd']);
    expect(parseQueryValue("'x^^y'")).toEqual(['x^^y']);
  });
  it('event codes are AND-ed (one slot per code), builds the FindDocumentsByReferenceId query', () => {
    const q = buildAdhocQuery({ kind: 'FindDocumentsByReferenceId', params: { patientId: 'P', statuses: ['approved'], eventCodes: ['CT^^1', 'R^^2'], referenceIds: ['AN^^^^urn:ihe:iti:xds:2013:accession'] }, returnType: 'ObjectRef' });
    const parsed = parseAdhocQuery(parseXml(q).documentElement!);
    expect(parsed.id).toBe('urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492');
    expect(parsed.returnType).toBe('ObjectRef');
    expect(parsed.slots.get('$XDSDocumentEntryEventCodeList')).toEqual([['CT^^1'], ['R^^2']]);
  });
});

describe('exchange log redaction', () => {
  it('masks the VIHF signature value and removes document content', () => {
    const xml = '<e><ds:SignatureValue>QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=</ds:SignatureValue><xdsb:Document id="d"><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:a%40x"/></xdsb:Document><xdsb:Document id="e">UEsDBBQAAAAIAAAAIQBAAAAAAAAAAAAAAAAAAA==</xdsb:Document></e>';
    const out = redactEnvelope(xml, [{ cid: 'a@x', data: Buffer.from('secret clinical content') }]);
    expect(out).not.toContain('QUJDREVG');
    expect(out).not.toContain('UEsDBBQ');
    expect(out).toContain('<xdsb:Document id="d"></xdsb:Document><!-- contenu retiré du journal (23 octets, sha256=');
  });
});

describe.skipIf(!HAS_SHARED)('CDA → DocumentEntry (fixtures)', () => {
  it('CR d’imagerie: INS, uniqueId, UTC times, modality and region event codes, author institution', () => {
    const { entry, info } = entryFromCda(fs.readFileSync(sharedPath('fixtures', 'cda-ans', 'IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml')), { masking: ['MASQUE_PS'] });
    expect(info).toMatchObject({ ins: '279035121518989', insOid: '1.2.250.1.213.1.4.10', uniqueId: '1.2.250.1.213.1.1.1.45.2024.2.1' });
    expect(entry.creationTime).toBe('20210108101700');
    expect(entry.eventCodes).toEqual(expect.arrayContaining([expect.objectContaining({ code: 'CT', scheme: '1.2.840.10008.2.16.4' }), expect.objectContaining({ code: '774007' })]));
    expect(entry.authors[0]!.institutions[0]).toMatch(/\^1750803447$/);
    expect(entry.confidentialityCodes.map((c) => c.code)).toEqual(['N', 'MASQUE_PS']);
    expect(entry.classCode?.code).toBe('31');
  });
  it('the documents capability mapping (used by the client) agrees with the reduced one on what the DMP checks', () => {
    for (const f of ['IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml', 'DOC_NON_STRUCTURE_CDA-R2-N1.xml', 'VSM_1.4_2022.01.xml']) {
      const cda = fs.readFileSync(sharedPath('fixtures', 'cda-ans', f));
      const a = entryFromCda(cda, { masking: ['INVISIBLE_PATIENT'] });
      const b = entryFromDocuments(cda, { masking: ['INVISIBLE_PATIENT'], sourceId: '1.2.3' });
      expect(b.info).toMatchObject({ ins: a.info.ins, insOid: a.info.insOid, uniqueId: a.info.uniqueId });
      expect({ hash: b.entry.hash, size: b.entry.size, patientId: b.entry.patientId, type: b.entry.typeCode?.code, creation: b.entry.creationTime }).toEqual({
        hash: a.entry.hash, size: a.entry.size, patientId: a.entry.patientId, type: a.entry.typeCode?.code, creation: a.entry.creationTime,
      });
      expect(b.entry.confidentialityCodes.map((c) => c.code)).toContain('INVISIBLE_PATIENT');
      expect(b.entry.authors.flatMap((x) => x.institutions).map((i) => i.split('^').pop())).toEqual(a.entry.authors.flatMap((x) => x.institutions).map((i) => i.split('^').pop()));
    }
  });
  it('refuses a non-CDA and a CDA whose first patient id is not an INS', () => {
    expect(() => entryFromCda(Buffer.from('<html/>'))).toThrow(expect.objectContaining({ code: 'DMP_NOT_CDA' }));
    const noIns = fs.readFileSync(sharedPath('fixtures', 'cda-ans', 'DOC_NON_STRUCTURE_CDA-R2-N1.xml'), 'utf8').replace('root="1.2.250.1.213.1.4.10"', 'root="1.2.3.4"');
    expect(() => entryFromCda(Buffer.from(noIns))).toThrow(expect.objectContaining({ code: 'DMP_CDA_INCOMPLETE' }));
  });
  it('schema validation accepts an ebRS query and reports an invalid one', async () => {
    const schemas = sharedPath('schemas', 'ebrs30');
    const q = buildAdhocQuery({ kind: 'GetDocuments', uniqueIds: ['1.2.3'], returnType: 'LeafClass' });
    expect(await validateXdsBody(q, schemas)).toEqual({ valid: true, errors: [] });
    const bad = await validateXdsBody(q.replace('returnType="LeafClass"', 'returnType="Nope"'), schemas);
    expect(bad.valid).toBe(false);
    expect(bad.errors.join(' ')).toMatch(/returnType/);
  });
});
