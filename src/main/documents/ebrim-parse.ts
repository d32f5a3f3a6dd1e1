/** Reads ebRIM 3.0: METADATA.XML, ITI-41 requests, registry responses (AdhocQueryResponse, RegistryResponse). */
import type { Element } from '@xmldom/xmldom';
import { parseXmlForReading } from '../xml/safe-xml';
import type { XdsAssociation, XdsAuthor, XdsCode, XdsDocumentEntry, XdsSubmissionSet } from './types';
import { XDM_ACTION_SLOT, XDM_ACTION_SLOT_ALIASES } from './wire-profile';
import { XDS } from './xds-constants';
import { attr, child, children } from './xml-util';

export interface RegistryError {
  errorCode: string;
  codeContext: string;
  severity: string;
  location?: string;
}

export interface EbrimParsed {
  rootName: string;
  status?: string;
  submissionSets: XdsSubmissionSet[];
  documents: XdsDocumentEntry[];
  associations: XdsAssociation[];
  objectRefs: string[];
  errors: RegistryError[];
}

function slots(e: Element): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of children(e, 'Slot')) {
    const n = attr(s, 'name');
    if (!n) continue;
    const values = children(child(s, 'ValueList'), 'Value').map((v) => v.textContent ?? '');
    (out[n] ??= []).push(...values);
  }
  return out;
}

function localized(e: Element, tag: 'Name' | 'Description'): string | undefined {
  return attr(child(child(e, tag), 'LocalizedString'), 'value');
}

function codeOf(c: Element): XdsCode {
  return { code: attr(c, 'nodeRepresentation') ?? '', codingScheme: slots(c).codingScheme?.[0] ?? '', displayName: localized(c, 'Name') ?? '' };
}

function authorOf(c: Element): XdsAuthor {
  const s = slots(c);
  return {
    ...(s.authorPerson?.[0] ? { authorPerson: s.authorPerson[0] } : {}),
    authorInstitution: s.authorInstitution ?? [],
    authorRole: s.authorRole ?? [],
    authorSpecialty: s.authorSpecialty ?? [],
    ...(s.authorTelecommunication ? { authorTelecommunication: s.authorTelecommunication } : {}),
  };
}

function externalIds(e: Element): Map<string, string> {
  const m = new Map<string, string>();
  for (const x of children(e, 'ExternalIdentifier')) {
    const scheme = attr(x, 'identificationScheme');
    const value = attr(x, 'value');
    if (scheme && value !== undefined) m.set(scheme, value);
  }
  return m;
}

const KNOWN_DE_SLOTS = new Set([
  'creationTime', 'hash', 'languageCode', 'legalAuthenticator', 'repositoryUniqueId', 'serviceStartTime', 'serviceStopTime',
  'size', 'sourcePatientId', 'sourcePatientInfo', 'URI', XDS.REFERENCE_ID_LIST, 'homeCommunityId',
]);

const EMPTY_CODE: XdsCode = { code: '', codingScheme: '', displayName: '' };

/** An object's classifications by scheme, in document order (one pass instead of one filter per scheme). */
function classificationsByScheme(e: Element): Map<string, Element[]> {
  const out = new Map<string, Element[]>();
  for (const c of children(e, 'Classification')) {
    const scheme = attr(c, 'classificationScheme') ?? '';
    const list = out.get(scheme);
    if (list) list.push(c);
    else out.set(scheme, [c]);
  }
  return out;
}

/** The code of the first classification under `scheme`, or the empty code. */
function firstCode(cls: Map<string, Element[]>, scheme: string): XdsCode {
  const c = cls.get(scheme)?.[0];
  return c ? codeOf(c) : EMPTY_CODE;
}

/**
 * Optional fields are assigned one by one (in the order of the type) rather than spread from conditional object
 * literals: the same object, but a much smaller function for V8 to compile in every thread that reads mail.
 */
function documentEntry(e: Element): XdsDocumentEntry {
  const s = slots(e);
  const cls = classificationsByScheme(e);
  const codes = (scheme: string): XdsCode[] => (cls.get(scheme) ?? []).map(codeOf);
  const ext = externalIds(e);
  const extraSlots: Record<string, string[]> = {};
  for (const k of Object.keys(s)) if (!KNOWN_DE_SLOTS.has(k)) extraSlots[XDM_ACTION_SLOT_ALIASES.includes(k) ? XDM_ACTION_SLOT : k] = s[k]!;
  // URI may be split over several values ("1|part", "2|part") in XDS; join them.
  const uris = s.URI;
  const uri = uris?.length === 1 ? uris[0] : uris?.length ? uris.map((u) => u.replace(/^\d+\|/, '')).join('') : undefined;
  const size = s.size?.[0];
  const versionName = attr(child(e, 'VersionInfo'), 'versionName');
  const comments = localized(e, 'Description');
  const d = {
    entryUUID: attr(e, 'id') ?? '',
    uniqueId: ext.get(XDS.DE_UNIQUE_ID) ?? '',
    patientId: ext.get(XDS.DE_PATIENT_ID) ?? '',
    sourcePatientId: s.sourcePatientId?.[0] ?? '',
    sourcePatientInfo: s.sourcePatientInfo ?? [],
    mimeType: attr(e, 'mimeType') ?? '',
    title: localized(e, 'Name') ?? '',
  } as XdsDocumentEntry;
  if (comments) d.comments = comments;
  d.creationTime = s.creationTime?.[0] ?? '';
  if (s.serviceStartTime?.[0]) d.serviceStartTime = s.serviceStartTime[0];
  if (s.serviceStopTime?.[0]) d.serviceStopTime = s.serviceStopTime[0];
  d.languageCode = s.languageCode?.[0] ?? '';
  if (s.legalAuthenticator?.[0]) d.legalAuthenticator = s.legalAuthenticator[0];
  if (s.hash?.[0]) d.hash = s.hash[0].toLowerCase();
  if (size !== undefined && /^\d+$/.test(size)) d.size = Number(size);
  if (uri) d.URI = uri;
  if (s.repositoryUniqueId?.[0]) d.repositoryUniqueId = s.repositoryUniqueId[0];
  if (versionName && /^\d+$/.test(versionName)) d.versionNumber = Number(versionName);
  d.classCode = firstCode(cls, XDS.DE_CLASS);
  d.typeCode = firstCode(cls, XDS.DE_TYPE);
  d.formatCode = firstCode(cls, XDS.DE_FORMAT);
  d.healthcareFacilityTypeCode = firstCode(cls, XDS.DE_FACILITY);
  d.practiceSettingCode = firstCode(cls, XDS.DE_PRACTICE);
  d.confidentialityCodes = codes(XDS.DE_CONFIDENTIALITY);
  d.eventCodes = codes(XDS.DE_EVENT);
  d.authors = (cls.get(XDS.DE_AUTHOR) ?? []).map(authorOf);
  d.referenceIdList = s[XDS.REFERENCE_ID_LIST] ?? [];
  d.extraSlots = extraSlots;
  const status = attr(e, 'status');
  if (status) d.availabilityStatus = status;
  const objectType = attr(e, 'objectType');
  if (objectType) d.objectType = objectType;
  const home = attr(e, 'home') ?? s.homeCommunityId?.[0];
  if (home) d.homeCommunityId = home;
  return d;
}

function submissionSet(e: Element): XdsSubmissionSet {
  const s = slots(e);
  const cls = classificationsByScheme(e);
  const ext = externalIds(e);
  const extraSlots: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(s)) if (k !== 'submissionTime' && k !== 'intendedRecipient') extraSlots[XDM_ACTION_SLOT_ALIASES.includes(k) ? XDM_ACTION_SLOT : k] = v;
  return {
    entryUUID: attr(e, 'id') ?? '',
    uniqueId: ext.get(XDS.SS_UNIQUE_ID) ?? '',
    sourceId: ext.get(XDS.SS_SOURCE_ID) ?? '',
    patientId: ext.get(XDS.SS_PATIENT_ID) ?? '',
    submissionTime: s.submissionTime?.[0] ?? '',
    contentTypeCode: firstCode(cls, XDS.SS_CONTENT_TYPE),
    ...(localized(e, 'Name') ? { title: localized(e, 'Name') } : {}),
    ...(localized(e, 'Description') ? { comments: localized(e, 'Description') } : {}),
    authors: (cls.get(XDS.SS_AUTHOR) ?? []).map(authorOf),
    intendedRecipient: s.intendedRecipient ?? [],
    extraSlots,
  };
}

/**
 * Descendant elements of `root` in document order, grouped by namespace + local name: one walk of the tree
 * instead of one `getElementsByTagNameNS` walk per kind of object.
 */
function descendantsByName(root: Element): Map<string, Element[]> {
  const out = new Map<string, Element[]>();
  const stack: Element[] = [];
  const push = (e: Element) => {
    for (let c = e.lastChild; c; c = c.previousSibling) if (c.nodeType === 1) stack.push(c as Element);
  };
  push(root);
  for (let e = stack.pop(); e; e = stack.pop()) {
    const key = `${e.namespaceURI ?? ''} ${e.localName ?? e.nodeName}`;
    const list = out.get(key);
    if (list) list.push(e);
    else out.set(key, [e]);
    push(e);
  }
  return out;
}

/** Parses any ebRIM 3.0 message we meet. XML goes through safe-xml (XML_INVALID on DTD/entities). */
export function parseEbrim(xml: string | Buffer): EbrimParsed {
  const doc = parseXmlForReading(xml, 'ebRIM').documentElement!;
  const byName = descendantsByName(doc);
  const all = (local: string, ns: string = XDS.NS_RIM) => byName.get(`${ns} ${local}`) ?? [];
  const ssNodeTargets = new Set(all('Classification').filter((c) => attr(c, 'classificationNode') === XDS.SS_NODE).map((c) => attr(c, 'classifiedObject')));
  const packages = all('RegistryPackage');
  const submissionSets = packages
    .filter((p) => ssNodeTargets.has(attr(p, 'id')) || externalIds(p).has(XDS.SS_UNIQUE_ID))
    .map(submissionSet);
  const documents = all('ExtrinsicObject').map(documentEntry);
  const associations: XdsAssociation[] = all('Association').map((a) => ({
    id: attr(a, 'id') ?? '',
    type: attr(a, 'associationType') ?? '',
    sourceObject: attr(a, 'sourceObject') ?? '',
    targetObject: attr(a, 'targetObject') ?? '',
    slots: slots(a),
  }));
  const objectRefs = all('ObjectRef').map((o) => attr(o, 'id') ?? '').filter(Boolean);
  const errors: RegistryError[] = all('RegistryError', XDS.NS_RS).map((e) => ({
    errorCode: attr(e, 'errorCode') ?? '',
    codeContext: attr(e, 'codeContext') ?? '',
    severity: attr(e, 'severity') ?? '',
    ...(attr(e, 'location') ? { location: attr(e, 'location') } : {}),
  }));
  const status = attr(doc, 'status');
  return { rootName: doc.localName ?? doc.nodeName, ...(status ? { status } : {}), submissionSets, documents, associations, objectRefs, errors };
}
