import type { DocumentEntry } from '../../src/main/dmp/ebrim';

/**
 * A realistic DMP document entry (the test patient, a GP author, CI-SIS codes), numbered `i`, for building large
 * registry responses in tests and benchmarks. Every third one carries an imaging event code and an accession number.
 */
export function syntheticDmpEntry(i: number, opts: { uniqueId?: string; title?: string } = {}): DocumentEntry {
  const id = `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  return {
    entryUuid: id,
    uniqueId: opts.uniqueId ?? `1.2.250.1.999.1.${i}`,
    logicalId: id,
    version: '1',
    status: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved',
    mimeType: 'text/xml',
    hash: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    size: 1234 + i,
    repositoryUniqueId: '1.2.250.1.213.1.4.12.99.1',
    title: opts.title ?? `Compte rendu n° ${i}`,
    patientId: '279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH',
    sourcePatientId: '279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH',
    sourcePatientInfo: ['PID-5|PAT-TROIS^DOMINIQUE^^^^^L', 'PID-7|19790328', 'PID-8|F'],
    creationTime: '20250101120000',
    serviceStartTime: '20250101110000',
    languageCode: 'fr-FR',
    authors: [{ person: '810001234567^DUPONT^JEAN^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS', institutions: ['CABINET^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^10B0012345'], roles: [], specialties: ['G15_10/SM54^Médecine générale^1.2.250.1.213.1.1.4.5'] }],
    classCode: { code: '10', scheme: '1.2.250.1.213.1.1.4.1', display: 'Compte rendu' },
    typeCode: { code: '11488-4', scheme: '2.16.840.1.113883.6.1', display: 'CR de consultation' },
    formatCode: { code: 'urn:ihe:iti:xds-sd:pdf:2008', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'PDF' },
    healthcareFacilityTypeCode: { code: 'SA07', scheme: '1.2.250.1.71.4.2.4', display: 'Cabinet individuel' },
    practiceSettingCode: { code: 'AMBULATOIRE', scheme: '1.2.250.1.213.1.1.4.9', display: 'Ambulatoire' },
    confidentialityCodes: [{ code: 'N', scheme: '2.16.840.1.113883.5.25', display: 'Normal' }],
    eventCodes: i % 3 === 0 ? [{ code: 'CT', scheme: '1.2.840.10008.2.16.4', display: 'CT' }] : [],
    referenceIds: i % 3 === 0 ? [`ACC${i}^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession`] : [],
  };
}
