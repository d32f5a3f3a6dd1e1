import type { Element } from '@xmldom/xmldom';
import { ASSOCIATION, NS, XDS } from './protocol';
import { attr, child, children, descendants, esc, text } from './xml-util';

/**
 * XDS.b metadata in ebRIM 3.0, as the DMP transactions carry it: DocumentEntry (ExtrinsicObject),
 * SubmissionSet (RegistryPackage) and Association; builders and parsers.
 *
 * Adapter note: the documents capability owns the metadata model of Y mode (one model → XDS and XDM). Until it
 * exports an ebRIM serializer/parser this compact one serves the DMP client and the test server; both sides
 * use the same definitions, and every request is validated against the shared ebRS/XDS.b schemas.
 */

export interface Coded {
  code: string;
  scheme: string;
  display: string;
}

export interface XdsAuthor {
  person?: string;
  institutions: string[];
  roles: string[];
  specialties: string[];
}

export interface DocumentEntry {
  entryUuid: string;
  uniqueId: string;
  logicalId?: string;
  version?: string;
  status?: string;
  mimeType: string;
  hash?: string;
  size?: number;
  repositoryUniqueId?: string;
  title?: string;
  comments?: string;
  patientId: string;
  sourcePatientId?: string;
  sourcePatientInfo: string[];
  creationTime?: string;
  serviceStartTime?: string;
  serviceStopTime?: string;
  languageCode?: string;
  legalAuthenticator?: string;
  authors: XdsAuthor[];
  classCode?: Coded;
  typeCode?: Coded;
  formatCode?: Coded;
  healthcareFacilityTypeCode?: Coded;
  practiceSettingCode?: Coded;
  confidentialityCodes: Coded[];
  eventCodes: Coded[];
  referenceIds: string[];
  /** Slots we do not model, kept as they came. */
  extraSlots?: Record<string, string[]>;
}

export interface SubmissionSet {
  entryUuid: string;
  uniqueId: string;
  sourceId: string;
  patientId: string;
  submissionTime: string;
  authors: XdsAuthor[];
  contentTypeCode: Coded;
  title?: string;
}

export interface Association {
  id: string;
  type: string;
  source: string;
  target: string;
  slots?: Record<string, string[]>;
}

let counter = 0;
function localId(prefix: string): string {
  counter = (counter + 1) % 1_000_000_000;
  return `${prefix}${counter}`;
}

function slot(name: string, values: (string | undefined)[]): string {
  const vs = values.filter((v): v is string => v !== undefined && v !== '');
  if (!vs.length) return '';
  return `<rim:Slot name="${esc(name)}"><rim:ValueList>${vs.map((v) => `<rim:Value>${esc(v)}</rim:Value>`).join('')}</rim:ValueList></rim:Slot>`;
}

function name(v: string | undefined): string {
  return v ? `<rim:Name><rim:LocalizedString value="${esc(v)}"/></rim:Name>` : '';
}

function classification(scheme: string, object: string, c: Coded): string {
  return (
    `<rim:Classification classificationScheme="${scheme}" classifiedObject="${esc(object)}" nodeRepresentation="${esc(c.code)}" id="${localId('cl')}">` +
    slot('codingScheme', [c.scheme]) +
    name(c.display) +
    `</rim:Classification>`
  );
}

function authorClassification(scheme: string, object: string, a: XdsAuthor): string {
  return (
    `<rim:Classification classificationScheme="${scheme}" classifiedObject="${esc(object)}" nodeRepresentation="" id="${localId('au')}">` +
    slot('authorPerson', [a.person]) +
    slot('authorInstitution', a.institutions) +
    slot('authorRole', a.roles) +
    slot('authorSpecialty', a.specialties) +
    `</rim:Classification>`
  );
}

function externalId(scheme: string, object: string, value: string, label: string): string {
  return `<rim:ExternalIdentifier identificationScheme="${scheme}" registryObject="${esc(object)}" value="${esc(value)}" id="${localId('ei')}">${name(label)}</rim:ExternalIdentifier>`;
}

export function buildExtrinsicObject(de: DocumentEntry): string {
  const id = de.entryUuid;
  const attrs =
    `id="${esc(id)}" mimeType="${esc(de.mimeType)}" objectType="${XDS.documentEntryType}"` +
    (de.status ? ` status="${esc(de.status)}"` : '') +
    (de.logicalId ? ` lid="${esc(de.logicalId)}"` : '');
  const extra = Object.entries(de.extraSlots ?? {})
    .map(([k, v]) => slot(k, v))
    .join('');
  return (
    `<rim:ExtrinsicObject ${attrs}>` +
    slot('creationTime', [de.creationTime]) +
    slot('hash', [de.hash]) +
    slot('languageCode', [de.languageCode]) +
    slot('legalAuthenticator', [de.legalAuthenticator]) +
    slot('repositoryUniqueId', [de.repositoryUniqueId]) +
    slot('serviceStartTime', [de.serviceStartTime]) +
    slot('serviceStopTime', [de.serviceStopTime]) +
    slot('size', [de.size === undefined ? undefined : String(de.size)]) +
    slot('sourcePatientId', [de.sourcePatientId]) +
    slot('sourcePatientInfo', de.sourcePatientInfo) +
    slot('urn:ihe:iti:xds:2013:referenceIdList', de.referenceIds) +
    extra +
    name(de.title) +
    (de.comments ? `<rim:Description><rim:LocalizedString value="${esc(de.comments)}"/></rim:Description>` : '') +
    (de.version ? `<rim:VersionInfo versionName="${esc(de.version)}"/>` : '') +
    de.authors.map((a) => authorClassification(XDS.de.author, id, a)).join('') +
    (de.classCode ? classification(XDS.de.classCode, id, de.classCode) : '') +
    de.confidentialityCodes.map((c) => classification(XDS.de.confidentialityCode, id, c)).join('') +
    de.eventCodes.map((c) => classification(XDS.de.eventCodeList, id, c)).join('') +
    (de.formatCode ? classification(XDS.de.formatCode, id, de.formatCode) : '') +
    (de.healthcareFacilityTypeCode ? classification(XDS.de.healthcareFacilityTypeCode, id, de.healthcareFacilityTypeCode) : '') +
    (de.practiceSettingCode ? classification(XDS.de.practiceSettingCode, id, de.practiceSettingCode) : '') +
    (de.typeCode ? classification(XDS.de.typeCode, id, de.typeCode) : '') +
    externalId(XDS.de.patientId, id, de.patientId, 'XDSDocumentEntry.patientId') +
    externalId(XDS.de.uniqueId, id, de.uniqueId, 'XDSDocumentEntry.uniqueId') +
    `</rim:ExtrinsicObject>`
  );
}

export function buildRegistryPackage(ss: SubmissionSet): string {
  const id = ss.entryUuid;
  return (
    `<rim:RegistryPackage id="${esc(id)}">` +
    slot('submissionTime', [ss.submissionTime]) +
    name(ss.title) +
    ss.authors.map((a) => authorClassification(XDS.ss.author, id, a)).join('') +
    classification(XDS.ss.contentTypeCode, id, ss.contentTypeCode) +
    externalId(XDS.ss.uniqueId, id, ss.uniqueId, 'XDSSubmissionSet.uniqueId') +
    externalId(XDS.ss.sourceId, id, ss.sourceId, 'XDSSubmissionSet.sourceId') +
    externalId(XDS.ss.patientId, id, ss.patientId, 'XDSSubmissionSet.patientId') +
    `</rim:RegistryPackage>` +
    `<rim:Classification classifiedObject="${esc(id)}" classificationNode="${XDS.submissionSetClass}" id="${localId('ssc')}"/>`
  );
}

export function buildAssociation(a: Association): string {
  return (
    `<rim:Association associationType="${esc(a.type)}" sourceObject="${esc(a.source)}" targetObject="${esc(a.target)}" id="${esc(a.id)}">` +
    Object.entries(a.slots ?? {})
      .map(([k, v]) => slot(k, v))
      .join('') +
    `</rim:Association>`
  );
}

export function buildSubmitObjectsRequest(objectsXml: string): string {
  return `<lcm:SubmitObjectsRequest xmlns:lcm="${NS.lcm}" xmlns:rim="${NS.rim}"><rim:RegistryObjectList>${objectsXml}</rim:RegistryObjectList></lcm:SubmitObjectsRequest>`;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

export function slotsOf(e: Element): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of children(e, NS.rim, 'Slot')) {
    const n = attr(s, 'name') ?? '';
    const vl = child(s, NS.rim, 'ValueList');
    out[n] = vl ? children(vl, NS.rim, 'Value').map((v) => text(v)) : [];
  }
  return out;
}

function localized(e: Element | undefined): string | undefined {
  const ls = e ? child(e, NS.rim, 'LocalizedString') : undefined;
  return ls ? attr(ls, 'value') : undefined;
}

function codedOf(c: Element): Coded {
  return { code: attr(c, 'nodeRepresentation') ?? '', scheme: slotsOf(c)['codingScheme']?.[0] ?? '', display: localized(child(c, NS.rim, 'Name')) ?? '' };
}

function authorOf(c: Element): XdsAuthor {
  const s = slotsOf(c);
  return { person: s['authorPerson']?.[0], institutions: s['authorInstitution'] ?? [], roles: s['authorRole'] ?? [], specialties: s['authorSpecialty'] ?? [] };
}

const KNOWN_SLOTS = new Set([
  'creationTime', 'hash', 'languageCode', 'legalAuthenticator', 'repositoryUniqueId', 'serviceStartTime', 'serviceStopTime',
  'size', 'sourcePatientId', 'sourcePatientInfo', 'urn:ihe:iti:xds:2013:referenceIdList',
]);

export function parseExtrinsicObject(e: Element): DocumentEntry {
  const s = slotsOf(e);
  const cls = children(e, NS.rim, 'Classification');
  const by = (scheme: string): Element[] => cls.filter((c) => attr(c, 'classificationScheme') === scheme);
  const ext = children(e, NS.rim, 'ExternalIdentifier');
  const extVal = (scheme: string): string => attr(ext.find((x) => attr(x, 'identificationScheme') === scheme), 'value') ?? '';
  const one = (scheme: string): Coded | undefined => {
    const c = by(scheme)[0];
    return c ? codedOf(c) : undefined;
  };
  const extraSlots = Object.fromEntries(Object.entries(s).filter(([k]) => !KNOWN_SLOTS.has(k)));
  const size = s['size']?.[0];
  return {
    entryUuid: attr(e, 'id') ?? '',
    uniqueId: extVal(XDS.de.uniqueId),
    logicalId: attr(e, 'lid'),
    version: attr(child(e, NS.rim, 'VersionInfo'), 'versionName'),
    status: attr(e, 'status'),
    mimeType: attr(e, 'mimeType') ?? '',
    hash: s['hash']?.[0],
    size: size !== undefined && /^\d+$/.test(size) ? Number(size) : undefined,
    repositoryUniqueId: s['repositoryUniqueId']?.[0],
    title: localized(child(e, NS.rim, 'Name')),
    comments: localized(child(e, NS.rim, 'Description')),
    patientId: extVal(XDS.de.patientId),
    sourcePatientId: s['sourcePatientId']?.[0],
    sourcePatientInfo: s['sourcePatientInfo'] ?? [],
    creationTime: s['creationTime']?.[0],
    serviceStartTime: s['serviceStartTime']?.[0],
    serviceStopTime: s['serviceStopTime']?.[0],
    languageCode: s['languageCode']?.[0],
    legalAuthenticator: s['legalAuthenticator']?.[0],
    authors: by(XDS.de.author).map(authorOf),
    classCode: one(XDS.de.classCode),
    typeCode: one(XDS.de.typeCode),
    formatCode: one(XDS.de.formatCode),
    healthcareFacilityTypeCode: one(XDS.de.healthcareFacilityTypeCode),
    practiceSettingCode: one(XDS.de.practiceSettingCode),
    confidentialityCodes: by(XDS.de.confidentialityCode).map(codedOf),
    eventCodes: by(XDS.de.eventCodeList).map(codedOf),
    referenceIds: s['urn:ihe:iti:xds:2013:referenceIdList'] ?? [],
    ...(Object.keys(extraSlots).length ? { extraSlots } : {}),
  };
}

export function parseRegistryPackage(e: Element): SubmissionSet {
  const s = slotsOf(e);
  const cls = children(e, NS.rim, 'Classification');
  const ext = children(e, NS.rim, 'ExternalIdentifier');
  const extVal = (scheme: string): string => attr(ext.find((x) => attr(x, 'identificationScheme') === scheme), 'value') ?? '';
  const ct = cls.find((c) => attr(c, 'classificationScheme') === XDS.ss.contentTypeCode);
  return {
    entryUuid: attr(e, 'id') ?? '',
    uniqueId: extVal(XDS.ss.uniqueId),
    sourceId: extVal(XDS.ss.sourceId),
    patientId: extVal(XDS.ss.patientId),
    submissionTime: s['submissionTime']?.[0] ?? '',
    authors: cls.filter((c) => attr(c, 'classificationScheme') === XDS.ss.author).map(authorOf),
    contentTypeCode: ct ? codedOf(ct) : { code: '', scheme: '', display: '' },
    title: localized(child(e, NS.rim, 'Name')),
  };
}

export function parseAssociation(e: Element): Association {
  return { id: attr(e, 'id') ?? '', type: attr(e, 'associationType') ?? '', source: attr(e, 'sourceObject') ?? '', target: attr(e, 'targetObject') ?? '', slots: slotsOf(e) };
}

export interface ParsedObjectList {
  entries: DocumentEntry[];
  /** Serialized-by-index elements, for a server that stores what it received. */
  entryElements: Element[];
  sets: SubmissionSet[];
  associations: Association[];
  /** ids of RegistryPackages classified as SubmissionSet (by Classification or by ExternalIdentifier). */
  submissionSetIds: Set<string>;
  objectRefs: string[];
}

export function parseRegistryObjectList(list: Element): ParsedObjectList {
  const entryElements = children(list, NS.rim, 'ExtrinsicObject');
  const packages = children(list, NS.rim, 'RegistryPackage');
  const submissionSetIds = new Set<string>();
  for (const c of children(list, NS.rim, 'Classification')) {
    if (attr(c, 'classificationNode') === XDS.submissionSetClass) submissionSetIds.add(attr(c, 'classifiedObject') ?? '');
  }
  for (const p of packages) {
    for (const c of children(p, NS.rim, 'Classification')) {
      if (attr(c, 'classificationNode') === XDS.submissionSetClass) submissionSetIds.add(attr(p, 'id') ?? '');
    }
  }
  return {
    entries: entryElements.map(parseExtrinsicObject),
    entryElements,
    sets: packages.filter((p) => submissionSetIds.has(attr(p, 'id') ?? '')).map(parseRegistryPackage),
    associations: children(list, NS.rim, 'Association').map(parseAssociation),
    submissionSetIds,
    objectRefs: children(list, NS.rim, 'ObjectRef').map((o) => attr(o, 'id') ?? ''),
  };
}

/** The masking codes carried by a DocumentEntry's confidentialityCode list. */
export function maskingOf(de: Pick<DocumentEntry, 'confidentialityCodes'>): string[] {
  return de.confidentialityCodes.map((c) => c.code).filter((c) => c === 'MASQUE_PS' || c === 'INVISIBLE_PATIENT' || c === 'INVISIBLE_REPRESENTANTS_LEGAUX');
}

/** The id component of an XCN authorPerson (`8<RPPS>^NOM^…`) or XON authorInstitution (`…^^^<id>`). */
export function xcnId(xcn: string): string {
  return xcn.split('^')[0] ?? '';
}
export function xonId(xon: string): string {
  const parts = xon.split('^');
  return parts[9] ?? parts[parts.length - 1] ?? '';
}

export { ASSOCIATION, descendants };
