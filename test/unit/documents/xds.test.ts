import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCda, deriveXdsMetadata, parseCda, parseEbrim, serializeSubmitObjectsRequest, validateXmlWithSchema, XDS } from '../../../src/main/documents';
import { HAS_SHARED, sharedPath } from '../../support/shared';

const EXAMPLES = path.resolve(__dirname, '..', '..', '..', 'examples');
const built = () => buildCda(JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'cda-request.json'), 'utf8')), { baseDir: EXAMPLES });

describe('XDS metadata from the CDA header', () => {
  it('maps the header, the user choices (masking, referenceIdList) and a replacement', () => {
    const b = built();
    const sub = deriveXdsMetadata(b.parsed, {
      sourceId: '1.2.250.1.999.1',
      documents: [{ masking: { maskedFromPS: true, invisibleToPatient: true }, referenceIdList: ['AN1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession'], replacesEntryUUID: 'urn:uuid:11111111-2222-3333-4444-555555555555' }],
    });
    const de = sub.documents[0]!;
    expect(de.patientId).toBe('279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH');
    expect(de.sourcePatientId).toBe('1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI');
    expect(de.sourcePatientInfo).toContain('PID-5|PAT-TROIS^DOMINIQUE^^^^^L');
    expect(de.sourcePatientInfo).toContain('PID-7|19790328');
    expect(de.authors[0]!.authorPerson).toBe('810001234567^DUPONT^JEAN^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS');
    expect(de.authors[0]!.authorInstitution).toEqual(['CABINET MEDICAL TEST^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^10B0123456']);
    expect(de.classCode.code).toBe('10');
    expect(de.formatCode.code).toBe('urn:ihe:iti:xds-sd:pdf:2008');
    expect(de.healthcareFacilityTypeCode).toMatchObject({ code: 'SA07', codingScheme: '1.2.250.1.71.4.2.4' });
    expect(de.confidentialityCodes.map((c) => c.code)).toEqual(['N', 'MASQUE_PS', 'INVISIBLE_PATIENT']);
    expect(de.serviceStartTime).toBe('20261120090000');
    expect(de.size).toBe(b.bytes.length);
    expect(de.hash).toMatch(/^[0-9a-f]{40}$/);
    expect(de.referenceIdList).toEqual(['AN1^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession']);
    expect(sub.associations.map((a) => a.type)).toEqual([XDS.HAS_MEMBER, XDS.RPLC]);
    expect(sub.associations[1]).toMatchObject({ sourceObject: de.entryUUID, targetObject: 'urn:uuid:11111111-2222-3333-4444-555555555555' });
  });

  it('refuses documents of several patients and a DMP submission without INS', () => {
    const a = built().parsed;
    const r = JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'cda-request.json'), 'utf8'));
    r.patient.ins = '180010101010190';
    const other = buildCda(r, { baseDir: EXAMPLES }).parsed;
    expect(() => deriveXdsMetadata([a, other], { sourceId: '1.2.3' })).toThrow(expect.objectContaining({ code: 'XDS_MULTIPLE_PATIENTS' }));
    r.patient.ins = undefined;
    const ippOnly = buildCda(r, { baseDir: EXAMPLES }).parsed;
    expect(() => deriveXdsMetadata(ippOnly, { sourceId: '1.2.3' })).toThrow(expect.objectContaining({ code: 'XDS_NO_PATIENT_ID' }));
    expect(deriveXdsMetadata(ippOnly, { sourceId: '1.2.3', patientIdMode: 'first' }).submissionSet.patientId).toBe('1234567890121^^^&1.2.3.4.567.8.9.10&ISO^PI');
  });

  it('serialises ebRIM that parses back to the same model', () => {
    const sub = deriveXdsMetadata(built().parsed, { sourceId: '1.2.250.1.999.1', documents: [{ uri: 'DOC0001.XML', action: 'D' }] });
    const back = parseEbrim(serializeSubmitObjectsRequest(sub));
    expect(back.rootName).toBe('SubmitObjectsRequest');
    expect(back.submissionSets[0]).toEqual(sub.submissionSet);
    // versionNumber is registry-assigned (VersionInfo), not submitted
    const { versionNumber: _v, ...de } = sub.documents[0]!;
    void _v;
    expect(back.documents[0]).toEqual(de);
    expect(back.associations).toEqual(sub.associations);
  });

  describe.skipIf(!HAS_SHARED)('against the shared schemas and data', () => {
    it('METADATA for every ANS example validates against ebRS30/lcm.xsd', async () => {
      const dir = sharedPath('fixtures', 'cda-ans');
      const docs = fs.readdirSync(dir).map((f) => parseCda(fs.readFileSync(path.join(dir, f))));
      const sub = deriveXdsMetadata(docs, { sourceId: '1.2.250.1.999.1', documents: docs.map((_, i) => ({ uri: `DOC${i}.XML`, masking: { invisibleToLegalRepresentatives: true } })) });
      expect(await validateXmlWithSchema(serializeSubmitObjectsRequest(sub), 'lcm')).toEqual({ valid: true, errors: [] });
      const img = sub.documents.find((d) => d.formatCode.code === 'urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013')!;
      expect(img.referenceIdList).toContain('105234751^^^&1.2.250.1.925.994044785528.27&ISO^urn:ihe:iti:xds:2013:accession');
      expect(sub.documents.find((d) => d.typeCode.code === 'SYNTH')?.classCode.code).toBe('11');
    });

    it('reads the NIST full METADATA.xml', () => {
      const r = parseEbrim(fs.readFileSync(sharedPath('fixtures', 'xdm-nist', 'full', 'METADATA.xml')));
      expect(r.submissionSets).toHaveLength(1);
      expect(r.documents.length).toBeGreaterThanOrEqual(1);
      expect(r.documents[0]!.patientId).toMatch(/\^\^\^&/);
      expect(r.documents[0]!.hash).toMatch(/^[0-9a-f]{40}$/);
      expect(r.associations.some((a) => a.type === XDS.HAS_MEMBER)).toBe(true);
    });
  });

  it('reads registry responses with errors and object refs', () => {
    const xml = `<query:AdhocQueryResponse xmlns:query="${XDS.NS_QUERY}" xmlns:rim="${XDS.NS_RIM}" xmlns:rs="${XDS.NS_RS}" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:PartialSuccess">
      <rs:RegistryErrorList><rs:RegistryError errorCode="XDSRegistryError" codeContext="Patient inconnu" severity="urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error" location="DMP"/></rs:RegistryErrorList>
      <rim:RegistryObjectList><rim:ObjectRef id="urn:uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"/></rim:RegistryObjectList></query:AdhocQueryResponse>`;
    const r = parseEbrim(xml);
    expect(r.status).toMatch(/PartialSuccess$/);
    expect(r.errors).toEqual([{ errorCode: 'XDSRegistryError', codeContext: 'Patient inconnu', severity: 'urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error', location: 'DMP' }]);
    expect(r.objectRefs).toEqual(['urn:uuid:aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee']);
    expect(() => parseEbrim('<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')).toThrow(expect.objectContaining({ code: 'XML_INVALID' }));
  });
});
