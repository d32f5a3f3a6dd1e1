import type { Element } from '@xmldom/xmldom';
import { parseExtrinsicObject, parseRegistryObjectList, type DocumentEntry } from './ebrim';
import { dmpError, fromServiceError, type DmpError } from './faults';
import { cidOfHref } from './mtom';
import { ERROR_SEVERITY, NS, REGISTRY_RESPONSE, STATUS, STORED_QUERY, type StatusName } from './protocol';
import { attr, child, children, descendants, esc, text } from './xml-util';

/** Bodies of ITI-18 (TD3.1), ITI-43 (TD3.2), ITI-41 (TD2.1) and ITI-57 (TD3.3) and their responses. */

// ---------------------------------------------------------------------------------------------------------
// Registry responses and errors

export interface RegistryErrorItem {
  code: string;
  context: string;
  location?: string;
  severity?: string;
}

export function buildRegistryResponse(errors: RegistryErrorItem[] = []): string {
  const status = errors.length ? REGISTRY_RESPONSE.failure : REGISTRY_RESPONSE.success;
  return `<rs:RegistryResponse xmlns:rs="${NS.rs}" status="${status}">${registryErrorList(errors)}</rs:RegistryResponse>`;
}

export function registryErrorList(errors: RegistryErrorItem[]): string {
  if (!errors.length) return '';
  return (
    `<rs:RegistryErrorList xmlns:rs="${NS.rs}">` +
    errors
      .map(
        (e) =>
          `<rs:RegistryError errorCode="${esc(e.code)}" codeContext="${esc(e.context)}" severity="${e.severity ?? ERROR_SEVERITY}"${e.location ? ` location="${esc(e.location)}"` : ''}/>`,
      )
      .join('') +
    `</rs:RegistryErrorList>`
  );
}

/** Throws the first Error-severity RegistryError of a response (if its status is not Success). */
export function checkRegistryResponse(e: Element): void {
  const status = attr(e, 'status') ?? '';
  const list = child(e, NS.rs, 'RegistryErrorList');
  const errors = list ? children(list, NS.rs, 'RegistryError') : [];
  if (status === REGISTRY_RESPONSE.success) return;
  const first = errors.find((x) => (attr(x, 'severity') ?? ERROR_SEVERITY).endsWith('Error')) ?? errors[0];
  if (!first) throw dmpError('DMP_BAD_RESPONSE', `registry status ${status} without error`);
  const err: DmpError = fromServiceError('registry', attr(first, 'errorCode') ?? 'Error', attr(first, 'codeContext'), attr(first, 'location'));
  throw err;
}

// ---------------------------------------------------------------------------------------------------------
// TD3.1 stored queries

export interface FindDocumentsParams {
  patientId: string;
  statuses: StatusName[];
  classCodes?: string[];
  typeCodes?: string[];
  practiceSettingCodes?: string[];
  healthcareFacilityTypeCodes?: string[];
  eventCodes?: string[];
  confidentialityCodes?: string[];
  formatCodes?: string[];
  authorPersons?: string[];
  creationTimeFrom?: string;
  creationTimeTo?: string;
  serviceStartTimeFrom?: string;
  serviceStartTimeTo?: string;
  serviceStopTimeFrom?: string;
  serviceStopTimeTo?: string;
}

export type ReturnType = 'LeafClass' | 'ObjectRef';

export type StoredQuery =
  | { kind: 'FindDocuments'; params: FindDocumentsParams; returnType: ReturnType }
  | { kind: 'FindDocumentsByReferenceId'; params: FindDocumentsParams & { referenceIds: string[] }; returnType: ReturnType }
  | { kind: 'GetDocuments'; entryUuids?: string[]; uniqueIds?: string[]; returnType: ReturnType };

const q = (v: string): string => `'${v.replace(/'/g, "''")}'`;
const list = (vs: string[]): string => `(${vs.map(q).join(',')})`;

function qslot(name: string, value: string | undefined): string {
  return value === undefined ? '' : `<rim:Slot name="${name}"><rim:ValueList><rim:Value>${esc(value)}</rim:Value></rim:ValueList></rim:Slot>`;
}

export function buildAdhocQuery(query: StoredQuery): string {
  let slots = '';
  let id: string;
  if (query.kind === 'GetDocuments') {
    id = STORED_QUERY.getDocuments;
    if (query.entryUuids?.length) slots += qslot('$XDSDocumentEntryEntryUUID', list(query.entryUuids));
    if (query.uniqueIds?.length) slots += qslot('$XDSDocumentEntryUniqueId', list(query.uniqueIds));
  } else {
    const p = query.params;
    id = query.kind === 'FindDocuments' ? STORED_QUERY.findDocuments : STORED_QUERY.findDocumentsByReferenceId;
    slots += qslot('$XDSDocumentEntryPatientId', q(p.patientId));
    slots += qslot('$XDSDocumentEntryStatus', list(p.statuses.map((s) => STATUS[s])));
    const codes: [string, string[] | undefined][] = [
      ['$XDSDocumentEntryClassCode', p.classCodes],
      ['$XDSDocumentEntryTypeCode', p.typeCodes],
      ['$XDSDocumentEntryPracticeSettingCode', p.practiceSettingCodes],
      ['$XDSDocumentEntryHealthcareFacilityTypeCode', p.healthcareFacilityTypeCodes],
      ['$XDSDocumentEntryFormatCode', p.formatCodes],
      ['$XDSDocumentEntryAuthorPerson', p.authorPersons],
    ];
    for (const [n, v] of codes) if (v?.length) slots += qslot(n, list(v));
    // Multi-valued AND semantics: one Slot value per code list (each value is an OR list), IHE ITI-18.
    for (const c of p.eventCodes ?? []) slots += qslot('$XDSDocumentEntryEventCodeList', list([c]));
    for (const c of p.confidentialityCodes ?? []) slots += qslot('$XDSDocumentEntryConfidentialityCode', list([c]));
    const times: [string, string | undefined][] = [
      ['$XDSDocumentEntryCreationTimeFrom', p.creationTimeFrom],
      ['$XDSDocumentEntryCreationTimeTo', p.creationTimeTo],
      ['$XDSDocumentEntryServiceStartTimeFrom', p.serviceStartTimeFrom],
      ['$XDSDocumentEntryServiceStartTimeTo', p.serviceStartTimeTo],
      ['$XDSDocumentEntryServiceStopTimeFrom', p.serviceStopTimeFrom],
      ['$XDSDocumentEntryServiceStopTimeTo', p.serviceStopTimeTo],
    ];
    for (const [n, v] of times) if (v) slots += qslot(n, v);
    if (query.kind === 'FindDocumentsByReferenceId') slots += qslot('$XDSDocumentEntryReferenceIdList', list(query.params.referenceIds));
  }
  return (
    `<query:AdhocQueryRequest xmlns:query="${NS.query}" xmlns:rim="${NS.rim}">` +
    `<query:ResponseOption returnType="${query.returnType}" returnComposedObjects="true"/>` +
    `<rim:AdhocQuery id="${id}">${slots}</rim:AdhocQuery>` +
    `</query:AdhocQueryRequest>`
  );
}

/** Parses `('a','b')` / `'a'` / bare values of a stored-query slot value. */
export function parseQueryValue(v: string): string[] {
  const s = v.trim();
  const inner = s.startsWith('(') && s.endsWith(')') ? s.slice(1, -1) : s;
  const out: string[] = [];
  const re = /'((?:[^']|'')*)'|([^,\s][^,]*)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(inner))) out.push(m[1] !== undefined ? m[1].replace(/''/g, "'") : m[2]!.trim());
  return out;
}

/** The query's slots: name → list of value groups (one group per Slot Value; AND between groups). */
export function parseAdhocQuery(e: Element): { id: string; returnType: ReturnType; slots: Map<string, string[][]> } {
  const ro = child(e, NS.query, 'ResponseOption');
  const aq = child(e, NS.rim, 'AdhocQuery');
  if (!aq) throw new Error('AdhocQuery missing');
  const slots = new Map<string, string[][]>();
  for (const s of children(aq, NS.rim, 'Slot')) {
    const vl = child(s, NS.rim, 'ValueList');
    const groups = (vl ? children(vl, NS.rim, 'Value') : []).map((v) => parseQueryValue(text(v)));
    const n = attr(s, 'name') ?? '';
    slots.set(n, [...(slots.get(n) ?? []), ...groups]);
  }
  const rt = attr(ro, 'returnType');
  return { id: attr(aq, 'id') ?? '', returnType: rt === 'ObjectRef' ? 'ObjectRef' : 'LeafClass', slots };
}

export function buildAdhocQueryResponse(objectsXml: string, errors: RegistryErrorItem[] = []): string {
  const status = errors.length ? REGISTRY_RESPONSE.failure : REGISTRY_RESPONSE.success;
  return (
    `<query:AdhocQueryResponse xmlns:query="${NS.query}" xmlns:rim="${NS.rim}" xmlns:rs="${NS.rs}" status="${status}">` +
    registryErrorList(errors) +
    `<rim:RegistryObjectList>${objectsXml}</rim:RegistryObjectList>` +
    `</query:AdhocQueryResponse>`
  );
}

export interface QueryResult {
  entries: DocumentEntry[];
  objectRefs: string[];
}

export function parseAdhocQueryResponse(e: Element): QueryResult {
  if (e.localName !== 'AdhocQueryResponse') throw dmpError('DMP_BAD_RESPONSE', `TD3.1: unexpected ${e.localName}`);
  checkRegistryResponse(e);
  const rol = child(e, NS.rim, 'RegistryObjectList');
  if (!rol) return { entries: [], objectRefs: [] };
  const parsed = parseRegistryObjectList(rol);
  return { entries: parsed.entries, objectRefs: parsed.objectRefs };
}

// ---------------------------------------------------------------------------------------------------------
// TD3.2 retrieve

export interface DocRequest {
  repositoryUniqueId: string;
  uniqueId: string;
}

export function buildRetrieveRequest(reqs: DocRequest[]): string {
  return (
    `<xdsb:RetrieveDocumentSetRequest xmlns:xdsb="${NS.xdsb}">` +
    reqs
      .map((r) => `<xdsb:DocumentRequest><xdsb:RepositoryUniqueId>${esc(r.repositoryUniqueId)}</xdsb:RepositoryUniqueId><xdsb:DocumentUniqueId>${esc(r.uniqueId)}</xdsb:DocumentUniqueId></xdsb:DocumentRequest>`)
      .join('') +
    `</xdsb:RetrieveDocumentSetRequest>`
  );
}

export function parseRetrieveRequest(e: Element): DocRequest[] {
  return children(e, NS.xdsb, 'DocumentRequest').map((d) => ({
    repositoryUniqueId: text(child(d, NS.xdsb, 'RepositoryUniqueId')),
    uniqueId: text(child(d, NS.xdsb, 'DocumentUniqueId')),
  }));
}

export interface RetrievedDocument extends DocRequest {
  mimeType: string;
  data: Buffer;
}

export interface RetrieveResult {
  documents: RetrievedDocument[];
  /** Documents the repository did not return (PartialSuccess): uniqueId + the service's error. */
  missing: { uniqueId: string; code: string; message: string }[];
}

/** `parts` resolves xop:Include hrefs; inline base64 is accepted too. A PartialSuccess returns what came. */
export function parseRetrieveResponse(e: Element, parts: Map<string, { data: Buffer }>): RetrieveResult {
  if (e.localName !== 'RetrieveDocumentSetResponse') throw dmpError('DMP_BAD_RESPONSE', `TD3.2: unexpected ${e.localName}`);
  const rr = child(e, NS.rs, 'RegistryResponse');
  const missing: RetrieveResult['missing'] = [];
  if (rr) {
    if (attr(rr, 'status') === REGISTRY_RESPONSE.partial) {
      const list = child(rr, NS.rs, 'RegistryErrorList');
      for (const x of list ? children(list, NS.rs, 'RegistryError') : []) {
        missing.push({ uniqueId: attr(x, 'location') ?? '', code: attr(x, 'errorCode') ?? '', message: attr(x, 'codeContext') ?? '' });
      }
    } else checkRegistryResponse(rr);
  }
  const documents = children(e, NS.xdsb, 'DocumentResponse').map((d) => {
    const doc = child(d, NS.xdsb, 'Document');
    const inc = doc ? child(doc, NS.xop, 'Include') : undefined;
    let data: Buffer;
    if (inc) {
      const part = parts.get(cidOfHref(attr(inc, 'href') ?? ''));
      if (!part) throw dmpError('DMP_BAD_RESPONSE', `TD3.2: MIME part ${attr(inc, 'href')} missing`);
      data = part.data;
    } else data = Buffer.from(text(doc), 'base64');
    return {
      repositoryUniqueId: text(child(d, NS.xdsb, 'RepositoryUniqueId')),
      uniqueId: text(child(d, NS.xdsb, 'DocumentUniqueId')),
      mimeType: text(child(d, NS.xdsb, 'mimeType')),
      data,
    };
  });
  return { documents, missing };
}

export { parseExtrinsicObject, descendants };
