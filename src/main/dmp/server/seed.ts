import crypto from 'node:crypto';
import fs from 'node:fs';
import type { DocumentEntry, XdsAuthor } from '../ebrim';
import { OID, STATUS, patientIdOf } from '../protocol';
import type { Authorization, DmpStatus } from '../wire-profile';
import { dtm, uuidOid } from '../xml-util';
import type { DmpStore, PatientRow } from './store';

/**
 * Test patients (test INS-NIR OID 1.2.250.1.213.1.4.10, valid NIR keys) covering each TD0.2 state for the
 * sandbox practitioner, and documents: a CR d'imagerie with its KOS (modality, region, accession number),
 * a document masked to PS by another author, an archived one.
 */

export interface SeedPatient {
  ins: string;
  insOid: string;
  family: string;
  given: string;
  birthDate: string;
  gender: 'F' | 'M';
  dmp: DmpStatus;
  /** The sandbox practitioner's authorization on this DMP. */
  authorization: Authorization;
  closureDate?: string;
  closureReason?: string;
}

export const SEED_PATIENTS: SeedPatient[] = [
  // The MSSanté APP mailbox's patient (also the patient of the ANS example CDAs).
  { ins: '279035121518989', insOid: OID.insTestNir, family: 'PAT-TROIS', given: 'DOMINIQUE', birthDate: '19790328', gender: 'F', dmp: 'ACTIF', authorization: 'VALIDE' },
  { ins: '185067512300159', insOid: OID.insTestNir, family: 'MARTIN', given: 'PIERRE', birthDate: '19850623', gender: 'M', dmp: 'ACTIF', authorization: 'NON_EXISTE' },
  { ins: '292013345600241', insOid: OID.insTestNir, family: 'DURAND', given: 'CLAIRE', birthDate: '19920115', gender: 'F', dmp: 'ACTIF', authorization: 'EXPIRE' },
  { ins: '177046978900396', insOid: OID.insTestNir, family: 'BERNARD', given: 'LUC', birthDate: '19770412', gender: 'M', dmp: 'ACTIF', authorization: 'INTERDIT' },
  { ins: '266121357900485', insOid: OID.insTestNir, family: 'PETIT', given: 'ANNE', birthDate: '19661207', gender: 'F', dmp: 'FERME', authorization: 'NON_EXISTE', closureDate: '20240115', closureReason: 'Fermeture à la demande du patient' },
  { ins: '101109924600591', insOid: OID.insTestNir, family: 'ROBERT', given: 'JULES', birthDate: '20101022', gender: 'M', dmp: 'INEXISTANT', authorization: 'NON_EXISTE' },
];

/** A practitioner of another structure: treating physician of the first patient, author of the seeded documents. */
export const OTHER_PS = { nameId: '810000000002', family: 'BIDEAULT', given: 'Jacques', structureId: '1750803447', structureName: 'Centre de radiologie Ambroise' };

export interface SeedOptions {
  /** VIHF NameID of the sandbox practitioner (authorizations are per practitioner). */
  practitionerId: string;
  /** CDA + KOS to seed (bytes); the KOS may be absent (no fixture). */
  crImg?: Buffer;
  kos?: Buffer;
  accessionNumber?: string;
  studyInstanceUid?: string;
  repositoryUniqueId: string;
  /** Imaging studies of the sandbox PACS (imaging capability): one KOS + one CR d'imagerie each. */
  imaging?: ImagingStudySeed[];
}

export interface ImagingStudySeed {
  title: string;
  accessionNumber: string;
  accessionIssuerOid: string;
  studyDate: string;
  studyInstanceUid: string;
  modalities: string[];
  region: { code: string; codeSystem: string; displayName: string };
  kosFile: string;
}

function author(): XdsAuthor {
  return {
    person: `${OTHER_PS.nameId}^${OTHER_PS.family}^${OTHER_PS.given}^^^^^^&${OID.idnps}&ISO^D^^^IDNPS`,
    institutions: [`${OTHER_PS.structureName}^^^^^&${OID.idnst}&ISO^IDNST^^^${OTHER_PS.structureId}`],
    roles: [],
    specialties: ['G15_10/SM44^Médecin - Radio-diagnostic (SM)^1.2.250.1.213.1.1.4.5'],
  };
}

function baseEntry(p: SeedPatient, data: Buffer, over: Partial<DocumentEntry>): DocumentEntry {
  const pid = patientIdOf(p.ins, p.insOid);
  return {
    entryUuid: `urn:uuid:${crypto.randomUUID()}`,
    uniqueId: (over.mimeType ?? 'text/xml') === 'text/xml' ? (extractCdaUniqueId(data) ?? uuidOid()) : uuidOid(),
    mimeType: 'text/xml',
    hash: crypto.createHash('sha1').update(data).digest('hex'),
    size: data.length,
    patientId: pid,
    sourcePatientId: pid,
    sourcePatientInfo: [`PID-5|${p.family}^${p.given}^^^^^L`, `PID-7|${p.birthDate}`, `PID-8|${p.gender}`],
    creationTime: '20210108101700',
    serviceStartTime: '20210108092500',
    serviceStopTime: '20210108101700',
    languageCode: 'fr-FR',
    authors: [author()],
    classCode: { code: '31', scheme: '1.2.250.1.213.1.1.4.1', display: 'Imagerie médicale' },
    typeCode: { code: '18748-4', scheme: '2.16.840.1.113883.6.1', display: "CR d'imagerie médicale" },
    formatCode: { code: 'urn:ihe:iti:xds-sd:pdf:2008', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'PDF' },
    healthcareFacilityTypeCode: { code: 'SA07', scheme: OID.sector, display: 'Cabinet individuel' },
    practiceSettingCode: { code: 'AMBULATOIRE', scheme: '1.2.250.1.213.1.1.4.9', display: 'Ambulatoire' },
    confidentialityCodes: [{ code: 'N', scheme: OID.confidentiality, display: 'Normal' }],
    eventCodes: [],
    referenceIds: [],
    ...over,
  };
}

function minimalCda(p: SeedPatient, title: string): Buffer {
  return Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?><ClinicalDocument xmlns="urn:hl7-org:v3"><realmCode code="FR"/><id root="${uuidOid()}"/>` +
      `<code code="11488-4" codeSystem="2.16.840.1.113883.6.1" displayName="Compte rendu de consultation"/><title>${title}</title>` +
      `<recordTarget><patientRole><id root="${p.insOid}" extension="${p.ins}"/></patientRole></recordTarget></ClinicalDocument>`,
  );
}

export function seed(store: DmpStore, opts: SeedOptions): void {
  if (store.patients().length) return; // seeded once; state then evolves with the tests and the user
  const now = new Date();
  store.tx(() => {
    for (const p of SEED_PATIENTS) {
      const row: PatientRow = {
        ins: p.ins, insOid: p.insOid, family: p.family, given: p.given, birthDate: p.birthDate, gender: p.gender, dmp: p.dmp,
        closureDate: p.closureDate, closureReason: p.closureReason, webAccess: p.dmp === 'ACTIF',
        treatingPhysicians: p === SEED_PATIENTS[0] ? [OTHER_PS.nameId] : [],
      };
      store.upsertPatient(row);
      if (p.authorization === 'VALIDE') store.setAuthorization(p.ins, opts.practitionerId, 'VALIDE', new Date(now.getTime() + 365 * 86400_000).toISOString());
      if (p.authorization === 'EXPIRE') store.setAuthorization(p.ins, opts.practitionerId, 'VALIDE', new Date(now.getTime() - 86400_000).toISOString());
      if (p.authorization === 'INTERDIT') store.setAuthorization(p.ins, opts.practitionerId, 'INTERDIT');
      store.setAuthorization(p.ins, OTHER_PS.nameId, 'VALIDE', new Date(now.getTime() + 365 * 86400_000).toISOString());
    }
    const p = SEED_PATIENTS[0]!;
    const put = (data: Buffer, e: DocumentEntry, status: string = STATUS.approved): void => {
      store.insertEntry({
        entryUuid: e.entryUuid, uniqueId: e.uniqueId, logicalId: e.entryUuid, version: 1, ins: p.ins, status, isSignature: false,
        submitter: OTHER_PS.nameId, submitterStructure: OTHER_PS.structureId, everVisibleToPatient: true,
        entry: { ...e, repositoryUniqueId: opts.repositoryUniqueId, status, logicalId: e.entryUuid, version: '1' },
      });
      store.putDocument(e.uniqueId, e.mimeType, data);
    };
    const kosEntry = (kos: Buffer, over: Partial<DocumentEntry>): DocumentEntry =>
      baseEntry(p, kos, {
        mimeType: 'application/dicom',
        title: "Références d'objets d'un examen d'imagerie",
        typeCode: { code: '55113-5', scheme: '2.16.840.1.113883.6.1', display: "Références d'objets d'un examen d'imagerie" },
        formatCode: { code: '1.2.840.10008.5.1.4.1.1.88.59', scheme: '1.2.840.10008.2.6.1', display: 'Key Object Selection Document' },
        ...over,
      });
    const studies = (opts.imaging ?? []).filter((st) => fs.existsSync(st.kosFile));
    if (studies.length) {
      for (const st of studies) {
        const refIds = [
          `${st.accessionNumber}^^^&${st.accessionIssuerOid}&ISO^urn:ihe:iti:xds:2013:accession`,
          `${st.studyInstanceUid}^^^^urn:ihe:iti:xds:2016:studyInstanceUID`,
        ];
        const events = [
          ...st.modalities.map((m) => ({ code: m, scheme: '1.2.840.10008.2.16.4', display: m })),
          { code: st.region.code, scheme: st.region.codeSystem, display: st.region.displayName },
        ];
        const time = `${st.studyDate}100000`;
        const times = { creationTime: time, serviceStartTime: time, serviceStopTime: time };
        const cr = minimalCda(p, `CR d'imagerie médicale - ${st.title}`);
        put(cr, baseEntry(p, cr, { ...times, title: `CR d'imagerie médicale - ${st.title}`, eventCodes: events, referenceIds: refIds, formatCode: { code: 'urn:ihe:iti:xds-sd:text:2008', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'Texte' } }));
        const kos = fs.readFileSync(st.kosFile);
        put(kos, kosEntry(kos, { ...times, title: `Examen d'imagerie - ${st.title}`, eventCodes: events, referenceIds: refIds }));
      }
    } else {
      const accession = opts.accessionNumber ?? 'SBX-ACC-0001';
      const refIds = [`${accession}^^^&1.2.250.1.999.1.1&ISO^urn:ihe:iti:xds:2013:accession`, ...(opts.studyInstanceUid ? [`${opts.studyInstanceUid}^^^^urn:ihe:iti:xds:2016:studyInstanceUID`] : [])];
      const imagingEvents = [
        { code: 'CT', scheme: '1.2.840.10008.2.16.4', display: 'Tomodensitométrie' },
        { code: '774007', scheme: '2.16.840.1.113883.6.96', display: 'Structure de la tête et/ou du cou' },
      ];
      const cr = opts.crImg ?? minimalCda(p, "CR d'imagerie médicale - Scanner tête et cou");
      const crUid = extractCdaUniqueId(cr) ?? uuidOid();
      put(cr, baseEntry(p, cr, { uniqueId: crUid, title: "CR d'imagerie médicale - Scanner tête et cou", eventCodes: imagingEvents, referenceIds: refIds }));
      if (opts.kos) put(opts.kos, kosEntry(opts.kos, { eventCodes: imagingEvents, referenceIds: refIds }));
    }
    const masked = minimalCda(p, 'Compte rendu masqué aux PS');
    put(masked, baseEntry(p, masked, {
      title: 'Compte rendu masqué aux PS', eventCodes: [],
      typeCode: { code: '11488-4', scheme: '2.16.840.1.113883.6.1', display: 'Compte rendu de consultation' },
      classCode: { code: '10', scheme: '1.2.250.1.213.1.1.4.1', display: 'Compte rendu' },
      formatCode: { code: 'urn:ihe:iti:xds-sd:text:2008', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'Texte' },
      confidentialityCodes: [{ code: 'N', scheme: OID.confidentiality, display: 'Normal' }, { code: 'MASQUE_PS', scheme: OID.masking, display: 'Masqué aux professionnels de santé' }],
    }));
    const archived = minimalCda(p, 'Ancien compte rendu (archivé)');
    put(archived, baseEntry(p, archived, {
      title: 'Ancien compte rendu (archivé)', creationTime: dtm(new Date('2019-05-02T10:00:00Z')), eventCodes: [],
      typeCode: { code: '11488-4', scheme: '2.16.840.1.113883.6.1', display: 'Compte rendu de consultation' },
      classCode: { code: '10', scheme: '1.2.250.1.213.1.1.4.1', display: 'Compte rendu' },
      formatCode: { code: 'urn:ihe:iti:xds-sd:text:2008', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'Texte' },
    }), STATUS.archived);
  });
}

function extractCdaUniqueId(cda: Buffer): string | undefined {
  const m = /<id\s+root="([0-9.]+)"(?:\s+extension="([^"]+)")?\s*\/>/.exec(cda.toString('utf8').replace(/<!--[\s\S]*?-->/g, ''));
  return m ? (m[2] ? `${m[1]}^${m[2]}` : m[1]) : undefined;
}

export function readIfExists(file: string | undefined): Buffer | undefined {
  return file && fs.existsSync(file) ? fs.readFileSync(file) : undefined;
}
