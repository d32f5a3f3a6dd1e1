/** One mapping CDA header → XDS metadata, used for the DMP (ITI-41) and for XDM (METADATA.XML). */
import { AppError } from '../core/errors';
import { classCodeForType, labelOf, lookupCode } from '../terminology';
import { OID } from './oids';
import type { CdaAuthor, CdaPerson, Coded, ParsedCda, XdsAssociation, XdsAuthor, XdsCode, XdsDocumentEntry, XdsSubmission } from './types';
import {
  FORMAT_BY_TEMPLATE,
  FORMAT_MIME_SUFFICIENT,
  FORMAT_PDF,
  FORMAT_TEXT,
  MASKING_SYSTEM,
  XDM_ACTION_SLOT,
} from './wire-profile';
import { XDS } from './xds-constants';
import { dateToXdsUtc, newOid, newUuidUrn, sha1Hex } from './xml-util';

export interface DocumentChoices {
  masking?: { maskedFromPS?: boolean; invisibleToPatient?: boolean; invisibleToLegalRepresentatives?: boolean };
  referenceIdList?: string[];
  eventCodes?: XdsCode[];
  replacesEntryUUID?: string;
  action?: 'C' | 'D';
  uri?: string;
  repositoryUniqueId?: string;
  comments?: string;
}

export interface XdsChoices {
  sourceId: string;
  submissionSetUniqueId?: string;
  submissionTime?: Date;
  contentTypeCode?: XdsCode;
  patientIdMode?: 'ins' | 'first';
  intendedRecipients?: string[];
  title?: string;
  documents?: DocumentChoices[];
}

/** HL7 v2 escaping for a component value (^ & ~ \ |). */
function v2(s: string | undefined): string {
  return (s ?? '').replace(/[\\^&~|]/g, (c) => ({ '\\': '\\E\\', '^': '\\S\\', '&': '\\T\\', '~': '\\R\\', '|': '\\F\\' })[c]!);
}

export function xcn(p: CdaPerson): string | undefined {
  if (!p.id?.extension && !p.family) return undefined;
  const idType = p.id?.root === OID.PS_ID ? 'IDNPS' : '';
  const assigning = p.id ? `&${p.id.root}&ISO` : '';
  return `${v2(p.id?.extension)}^${v2(p.family)}^${v2(p.given)}^^^${v2(p.prefix)}^^^${assigning}^D^^^${idType}`.replace(/\^+$/, '');
}

export function xon(org: CdaPerson['organization']): string | undefined {
  if (!org?.name) return undefined;
  if (!org.id?.extension) return v2(org.name);
  return `${v2(org.name)}^^^^^&${org.id.root}&ISO^IDNST^^^${v2(org.id.extension)}`;
}

function toCode(c: Coded | undefined, fallbackLabel?: string): XdsCode | undefined {
  if (!c) return undefined;
  return { code: c.code, codingScheme: c.codeSystem, displayName: c.displayName ?? fallbackLabel ?? c.code };
}

function authorOf(a: CdaAuthor): XdsAuthor {
  const person = xcn(a);
  const inst = xon(a.organization);
  const spec = a.code ? `${a.code.code}^${v2(a.code.displayName ?? labelOf('J01_AUTHOR_SPECIALTY', a.code.code) ?? '')}^${a.code.codeSystem}` : undefined;
  return { ...(person ? { authorPerson: person } : {}), authorInstitution: inst ? [inst] : [], authorRole: [], authorSpecialty: spec ? [spec] : [] };
}

function hl7ToXds(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T(\d{2}):(\d{2}):(\d{2})([+-]\d{2}:\d{2}|Z)?)?$/.exec(iso);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, tz] = m;
  if (!h) return `${y}${mo ?? ''}${d ?? ''}`;
  if (!tz) return `${y}${mo}${d}${h}${mi}${s}`;
  return dateToXdsUtc(new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}${tz}`));
}

export function patientCx(parsed: ParsedCda, mode: 'ins' | 'first'): string {
  const p = parsed.header.patient;
  if (p.ins) return `${p.ins.value}^^^&${p.ins.oid}&ISO^NH`;
  if (mode === 'ins') {
    throw new AppError('XDS_NO_PATIENT_ID', "Le document n'identifie pas le patient par son INS : il ne peut pas être partagé dans le DMP.", 'no INS in recordTarget');
  }
  const first = p.ids[0];
  if (!first?.extension) throw new AppError('XDS_NO_PATIENT_ID', "Le document n'identifie pas le patient.", 'no patient id');
  return `${first.extension}^^^&${first.root}&ISO^PI`;
}

function formatCodeOf(parsed: ParsedCda): XdsCode {
  if (parsed.body.kind === 'pdf') return FORMAT_PDF;
  if (parsed.body.kind === 'text') return FORMAT_TEXT;
  for (const t of parsed.modelTemplateIds) {
    const f = FORMAT_BY_TEMPLATE[t.root];
    if (f) return f;
  }
  return FORMAT_MIME_SUFFICIENT;
}

function defaultReferenceIds(parsed: ParsedCda): string[] {
  const h = parsed.header;
  const out: string[] = [];
  for (const a of h.accessionNumbers) if (a.extension) out.push(`${a.extension}^^^&${a.root}&ISO^urn:ihe:iti:xds:2013:accession`);
  for (const s of h.studyInstanceUids) out.push(`${s}^^^^urn:ihe:iti:xds:2016:studyInstanceUID`);
  for (const o of h.orderIds) if (o.extension) out.push(`${o.extension}^^^&${o.root}&ISO^urn:ihe:iti:xds:2013:order`);
  return out;
}

export function uniqueIdOf(parsed: ParsedCda): string {
  const id = parsed.header.id;
  return id.extension ? `${id.root}^${id.extension}` : id.root;
}

function entryOf(parsed: ParsedCda, patientId: string, c: DocumentChoices): XdsDocumentEntry {
  const h = parsed.header;
  const p = h.patient;
  const typeCode: XdsCode = {
    code: h.typeCode.code,
    codingScheme: h.typeCode.codeSystem,
    displayName: h.typeCode.displayName ?? lookupCode('J07_TYPE', h.typeCode.code)?.displayName ?? h.typeCode.code,
  };
  const conf = toCode(h.confidentiality) ?? { code: 'N', codingScheme: OID.CONFIDENTIALITY, displayName: 'Normal' };
  const confidentialityCodes: XdsCode[] = [conf];
  const m = c.masking ?? {};
  const mask = (code: string) => confidentialityCodes.push({ code, codingScheme: MASKING_SYSTEM, displayName: labelOf('J08_CONFIDENTIALITY', code, MASKING_SYSTEM) ?? code });
  if (m.maskedFromPS) mask('MASQUE_PS');
  if (m.invisibleToPatient) mask('INVISIBLE_PATIENT');
  if (m.invisibleToLegalRepresentatives) mask('INVISIBLE_REPRESENTANTS_LEGAUX');
  const facility = toCode(h.facilityType, h.facilityType && labelOf('J02_FACILITY_TYPE', h.facilityType.code));
  const practice = toCode(h.practiceSetting, h.practiceSetting && labelOf('J04_PRACTICE_SETTING', h.practiceSetting.code));
  const ev = h.serviceEvents[0];
  const local = p.localIds[0];
  const sourcePatientId = local?.extension ? `${local.extension}^^^&${local.root}&ISO^PI` : patientId;
  const pid3 = p.ids.filter((i) => i.extension).map((i) => `${i.extension}^^^&${i.root}&ISO^${i.kind === 'LOCAL' ? 'PI' : 'NH'}`);
  const sourcePatientInfo = [
    ...(pid3.length ? [`PID-3|${pid3.join('~')}`] : []),
    `PID-5|${v2(p.birthFamily ?? p.usedFamily)}^${v2(p.firstGiven ?? p.usedGiven)}^^^^^L`,
    ...(p.birthDate ? [`PID-7|${p.birthDate.replace(/-/g, '')}`] : []),
    ...(p.gender ? [`PID-8|${p.gender}`] : []),
  ];
  const la = h.legalAuthenticator ? xcn(h.legalAuthenticator) : undefined;
  const start = hl7ToXds(ev?.start ?? h.encounter?.start);
  const stop = hl7ToXds(ev?.stop ?? h.encounter?.stop);
  const creationTime = hl7ToXds(h.effectiveTime) ?? dateToXdsUtc(new Date());
  const extraSlots: Record<string, string[]> = {};
  if (c.action) extraSlots[XDM_ACTION_SLOT] = [c.action];
  if (!facility) throw new AppError('XDS_MISSING_FACILITY', "Le type d'établissement (healthCareFacility/code) manque dans le document.", 'no facility type');
  if (!practice) throw new AppError('XDS_MISSING_PRACTICE_SETTING', "Le cadre d'exercice manque dans le document.", 'no practice setting');
  return {
    entryUUID: newUuidUrn(),
    uniqueId: uniqueIdOf(parsed),
    patientId,
    sourcePatientId,
    sourcePatientInfo,
    mimeType: 'text/xml',
    title: h.title,
    ...(c.comments ? { comments: c.comments } : {}),
    creationTime,
    ...(start ? { serviceStartTime: start } : {}),
    ...(stop ? { serviceStopTime: stop } : {}),
    languageCode: h.languageCode ?? 'fr-FR',
    ...(la ? { legalAuthenticator: la } : {}),
    hash: sha1Hex(parsed.bytes),
    size: parsed.bytes.length,
    ...(c.uri ? { URI: c.uri } : {}),
    ...(c.repositoryUniqueId ? { repositoryUniqueId: c.repositoryUniqueId } : {}),
    ...(h.versionNumber ? { versionNumber: h.versionNumber } : {}),
    classCode: classCodeForType(h.typeCode.code),
    typeCode,
    formatCode: formatCodeOf(parsed),
    healthcareFacilityTypeCode: facility,
    practiceSettingCode: practice,
    confidentialityCodes,
    eventCodes: [...(c.eventCodes ?? [])],
    authors: h.authors.map(authorOf),
    referenceIdList: c.referenceIdList ?? defaultReferenceIds(parsed),
    extraSlots,
    objectType: XDS.DE_OBJECT_TYPE,
  };
}

/** SubmissionSet + DocumentEntries + Associations for one patient's documents. */
export function deriveXdsMetadata(docs: ParsedCda | ParsedCda[], choices: XdsChoices): XdsSubmission {
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.length === 0) throw new AppError('XDS_NO_DOCUMENT', 'Aucun document à transmettre.', 'empty document list');
  const mode = choices.patientIdMode ?? 'ins';
  const patientIds = list.map((d) => patientCx(d, mode));
  if (new Set(patientIds).size > 1) {
    throw new AppError('XDS_MULTIPLE_PATIENTS', 'Les documents d\u2019un même envoi doivent concerner un seul patient.', `patient ids: ${[...new Set(patientIds)].join(', ')}`);
  }
  const patientId = patientIds[0]!;
  const documents = list.map((d, i) => entryOf(d, patientId, choices.documents?.[i] ?? {}));
  const ssId = newUuidUrn();
  const associations: XdsAssociation[] = [];
  documents.forEach((de, i) => {
    associations.push({ id: newUuidUrn(), type: XDS.HAS_MEMBER, sourceObject: ssId, targetObject: de.entryUUID, slots: { SubmissionSetStatus: ['Original'] } });
    const old = choices.documents?.[i]?.replacesEntryUUID;
    if (old) associations.push({ id: newUuidUrn(), type: XDS.RPLC, sourceObject: de.entryUUID, targetObject: old, slots: {} });
  });
  const first = documents[0]!;
  return {
    submissionSet: {
      entryUUID: ssId,
      uniqueId: choices.submissionSetUniqueId ?? newOid(),
      sourceId: choices.sourceId,
      patientId,
      submissionTime: dateToXdsUtc(choices.submissionTime ?? new Date()),
      contentTypeCode: choices.contentTypeCode ?? first.typeCode,
      ...(choices.title ? { title: choices.title } : {}),
      authors: first.authors.length ? [first.authors[0]!] : [],
      intendedRecipient: choices.intendedRecipients ?? [],
      extraSlots: {},
    },
    documents,
    associations,
  };
}
