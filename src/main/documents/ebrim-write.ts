/** ebRIM 3.0 serialisation of the XDS model: lcm:SubmitObjectsRequest (validates against ebRS30/lcm.xsd). */
import type { XdsAuthor, XdsCode, XdsDocumentEntry, XdsSubmission } from './types';
import { XDS } from './xds-constants';
import { el, esc, newUuidUrn } from './xml-util';

function slot(name: string, values: (string | number | undefined)[]): string {
  const vs = values.filter((v): v is string | number => v !== undefined && v !== '');
  if (!vs.length) return '';
  return `<rim:Slot name="${esc(name)}"><rim:ValueList>${vs.map((v) => `<rim:Value>${esc(String(v))}</rim:Value>`).join('')}</rim:ValueList></rim:Slot>`;
}

function name(value: string | undefined, tag = 'Name'): string {
  return value ? `<rim:${tag}><rim:LocalizedString xml:lang="fr-FR" charset="UTF-8" value="${esc(value)}"/></rim:${tag}>` : '';
}

function codeClassification(scheme: string, object: string, c: XdsCode): string {
  return el(
    'rim:Classification',
    { id: newUuidUrn(), objectType: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification', classificationScheme: scheme, classifiedObject: object, nodeRepresentation: c.code },
    slot('codingScheme', [c.codingScheme]) + name(c.displayName),
  );
}

function authorClassification(scheme: string, object: string, a: XdsAuthor): string {
  return el(
    'rim:Classification',
    { id: newUuidUrn(), objectType: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification', classificationScheme: scheme, classifiedObject: object, nodeRepresentation: '' },
    slot('authorPerson', [a.authorPerson]) +
      slot('authorInstitution', a.authorInstitution) +
      slot('authorRole', a.authorRole) +
      slot('authorSpecialty', a.authorSpecialty) +
      slot('authorTelecommunication', a.authorTelecommunication ?? []),
  );
}

function externalId(scheme: string, object: string, value: string, label: string): string {
  return el(
    'rim:ExternalIdentifier',
    { id: newUuidUrn(), objectType: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier', identificationScheme: scheme, registryObject: object, value },
    name(label),
  );
}

function documentEntry(de: XdsDocumentEntry): string {
  const id = de.entryUUID;
  const slots =
    slot('creationTime', [de.creationTime]) +
    slot('hash', [de.hash]) +
    slot('languageCode', [de.languageCode]) +
    slot('legalAuthenticator', [de.legalAuthenticator]) +
    slot('repositoryUniqueId', [de.repositoryUniqueId]) +
    slot('serviceStartTime', [de.serviceStartTime]) +
    slot('serviceStopTime', [de.serviceStopTime]) +
    slot('size', [de.size]) +
    slot('sourcePatientId', [de.sourcePatientId]) +
    slot('sourcePatientInfo', de.sourcePatientInfo) +
    slot('URI', [de.URI]) +
    slot(XDS.REFERENCE_ID_LIST, de.referenceIdList) +
    Object.entries(de.extraSlots).map(([k, v]) => slot(k, v)).join('');
  const cls =
    de.authors.map((a) => authorClassification(XDS.DE_AUTHOR, id, a)).join('') +
    codeClassification(XDS.DE_CLASS, id, de.classCode) +
    de.confidentialityCodes.map((c) => codeClassification(XDS.DE_CONFIDENTIALITY, id, c)).join('') +
    de.eventCodes.map((c) => codeClassification(XDS.DE_EVENT, id, c)).join('') +
    codeClassification(XDS.DE_FORMAT, id, de.formatCode) +
    codeClassification(XDS.DE_FACILITY, id, de.healthcareFacilityTypeCode) +
    codeClassification(XDS.DE_PRACTICE, id, de.practiceSettingCode) +
    codeClassification(XDS.DE_TYPE, id, de.typeCode);
  const ext =
    externalId(XDS.DE_PATIENT_ID, id, de.patientId, 'XDSDocumentEntry.patientId') +
    externalId(XDS.DE_UNIQUE_ID, id, de.uniqueId, 'XDSDocumentEntry.uniqueId');
  return el(
    'rim:ExtrinsicObject',
    { id, objectType: de.objectType ?? XDS.DE_OBJECT_TYPE, mimeType: de.mimeType, ...(de.availabilityStatus ? { status: de.availabilityStatus } : {}) },
    slots + name(de.title) + name(de.comments, 'Description') + cls + ext,
  );
}

/** The inner `rim:RegistryObjectList` (for embedding). */
export function serializeRegistryObjectList(sub: XdsSubmission): string {
  const ss = sub.submissionSet;
  const id = ss.entryUUID;
  const pkg = el(
    'rim:RegistryPackage',
    { id, objectType: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage' },
    slot('submissionTime', [ss.submissionTime]) +
      slot('intendedRecipient', ss.intendedRecipient) +
      Object.entries(ss.extraSlots).map(([k, v]) => slot(k, v)).join('') +
      name(ss.title) +
      name(ss.comments, 'Description') +
      ss.authors.map((a) => authorClassification(XDS.SS_AUTHOR, id, a)).join('') +
      codeClassification(XDS.SS_CONTENT_TYPE, id, ss.contentTypeCode) +
      externalId(XDS.SS_UNIQUE_ID, id, ss.uniqueId, 'XDSSubmissionSet.uniqueId') +
      externalId(XDS.SS_SOURCE_ID, id, ss.sourceId, 'XDSSubmissionSet.sourceId') +
      externalId(XDS.SS_PATIENT_ID, id, ss.patientId, 'XDSSubmissionSet.patientId'),
  );
  const ssClass = el('rim:Classification', { id: newUuidUrn(), classifiedObject: id, classificationNode: XDS.SS_NODE });
  const assocs = sub.associations
    .map((a) =>
      el(
        'rim:Association',
        { id: a.id, objectType: 'urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association', associationType: a.type, sourceObject: a.sourceObject, targetObject: a.targetObject },
        Object.entries(a.slots).map(([k, v]) => slot(k, v)).join(''),
      ),
    )
    .join('');
  return `<rim:RegistryObjectList>${sub.documents.map(documentEntry).join('')}${pkg}${ssClass}${assocs}</rim:RegistryObjectList>`;
}

/** `lcm:SubmitObjectsRequest` — METADATA.XML, or the body of an ITI-41 request. */
export function serializeSubmitObjectsRequest(sub: XdsSubmission, opts: { xmlDeclaration?: boolean } = {}): string {
  const decl = opts.xmlDeclaration === false ? '' : '<?xml version="1.0" encoding="UTF-8"?>\n';
  return `${decl}<lcm:SubmitObjectsRequest xmlns:lcm="${XDS.NS_LCM}" xmlns:rim="${XDS.NS_RIM}">${serializeRegistryObjectList(sub)}</lcm:SubmitObjectsRequest>\n`;
}
