/** Reads any CDA R2 (levels 1 and 3) into a header model + body. All XML goes through safe-xml. */
import type { Element } from '@xmldom/xmldom';
import { AppError } from '../core/errors';
import { parseXmlForReading } from '../xml/safe-xml';
import { narrativeToHtml } from './narrative-html';
import { INS_KIND_BY_OID } from './oids';
import type {
  CdaAttachment,
  CdaAuthor,
  CdaBody,
  CdaHeader,
  CdaOrganization,
  CdaPatient,
  CdaPerson,
  CdaRelatedDocument,
  CdaServiceEvent,
  Coded,
  InstanceId,
  ParsedCda,
  PatientId,
} from './types';
import { attr, child, children, hl7ToIso, path, text } from './xml-util';

const HL7_NS = 'urn:hl7-org:v3';

function ii(e: Element | undefined): InstanceId | undefined {
  const root = attr(e, 'root');
  if (!root) return undefined;
  const extension = attr(e, 'extension');
  return extension ? { root, extension } : { root };
}

function coded(e: Element | undefined): Coded | undefined {
  const code = attr(e, 'code');
  if (!code) return undefined;
  const displayName = attr(e, 'displayName');
  return { code, codeSystem: attr(e, 'codeSystem') ?? '', ...(displayName ? { displayName } : {}) };
}

function ts(e: Element | undefined): string | undefined {
  return hl7ToIso(attr(e, 'value'));
}

function personName(nameEl: Element | undefined): Pick<CdaPerson, 'prefix' | 'family' | 'given'> {
  if (!nameEl) return {};
  const family = text(child(nameEl, 'family'));
  const given = children(nameEl, 'given').map(text).filter(Boolean).join(' ') || undefined;
  const prefix = text(child(nameEl, 'prefix'));
  // A name given as plain text (no parts).
  if (!family && !given) {
    const whole = text(nameEl);
    return whole ? { family: whole } : {};
  }
  return { ...(prefix ? { prefix } : {}), ...(family ? { family } : {}), ...(given ? { given } : {}) };
}

function organization(e: Element | undefined): CdaOrganization | undefined {
  if (!e) return undefined;
  const id = ii(child(e, 'id'));
  const name = text(child(e, 'name'));
  return { ...(id ? { id } : {}), ...(name ? { name } : {}) };
}

function assigned(e: Element | undefined, personTag: string, orgTag: string): CdaPerson {
  const id = ii(child(e, 'id'));
  const code = coded(child(e, 'code'));
  const org = organization(child(e, orgTag));
  return {
    ...(id ? { id } : {}),
    ...personName(path(e, personTag, 'name')),
    ...(code ? { code } : {}),
    ...(org ? { organization: org } : {}),
  };
}

function patient(doc: Element): CdaPatient {
  const role = path(doc, 'recordTarget', 'patientRole');
  const ids: PatientId[] = [];
  for (const idEl of children(role, 'id')) {
    const id = ii(idEl);
    if (!id) continue;
    ids.push({ ...id, kind: INS_KIND_BY_OID[id.root] ?? 'LOCAL' });
  }
  const insId = ids.find((i) => i.kind !== 'LOCAL' && i.extension);
  const p = child(role, 'patient');
  const nameEl = child(p, 'name');
  const out: CdaPatient = {
    ids,
    localIds: ids.filter((i) => i.kind === 'LOCAL').map(({ root, extension }) => (extension ? { root, extension } : { root })),
  };
  if (insId && insId.kind !== 'LOCAL') out.ins = { value: insId.extension!, oid: insId.root, kind: insId.kind };
  const unqualifiedGivens: string[] = [];
  for (const n of children(nameEl, 'family')) {
    const q = attr(n, 'qualifier');
    const v = text(n);
    if (!v) continue;
    if (q === 'CL' || q === 'SP') out.usedFamily ??= v;
    else out.birthFamily ??= v;
  }
  for (const n of children(nameEl, 'given')) {
    const q = attr(n, 'qualifier');
    const v = text(n);
    if (!v) continue;
    if (q === 'BR') out.firstGiven ??= v;
    else if (q === 'CL') out.usedGiven ??= v;
    else unqualifiedGivens.push(v);
  }
  if (unqualifiedGivens.length) out.birthGivens = unqualifiedGivens.join(' ');
  if (!out.firstGiven && out.birthGivens) out.firstGiven = out.birthGivens.split(/\s+/)[0];
  const gender = attr(child(p, 'administrativeGenderCode'), 'code');
  if (gender) out.gender = gender;
  const birth = ts(child(p, 'birthTime'));
  if (birth) out.birthDate = birth.slice(0, 10);
  const county = text(path(p, 'birthplace', 'place', 'addr', 'county'));
  if (county) out.birthPlace = county;
  return out;
}

function serviceEvents(doc: Element): CdaServiceEvent[] {
  return children(doc, 'documentationOf').flatMap((dof) =>
    children(dof, 'serviceEvent').map((se) => {
      const id = ii(child(se, 'id'));
      const code = coded(child(se, 'code'));
      const eff = child(se, 'effectiveTime');
      const start = ts(child(eff, 'low')) ?? ts(eff);
      const stop = ts(child(eff, 'high'));
      const performers = children(se, 'performer').map((pf) => assigned(child(pf, 'assignedEntity'), 'assignedPerson', 'representedOrganization'));
      let practiceSetting: Coded | undefined;
      for (const pf of children(se, 'performer')) {
        practiceSetting ??= coded(path(pf, 'assignedEntity', 'representedOrganization', 'standardIndustryClassCode'));
      }
      return {
        ...(id ? { id } : {}),
        ...(code ? { code } : {}),
        ...(start ? { start } : {}),
        ...(stop ? { stop } : {}),
        ...(practiceSetting ? { practiceSetting } : {}),
        performers,
      };
    }),
  );
}

function header(doc: Element): CdaHeader {
  const id = ii(child(doc, 'id'));
  if (!id) throw new AppError('CDA_INVALID', "Le document CDA n'a pas d'identifiant (id).", 'ClinicalDocument/id missing');
  const typeCode = coded(child(doc, 'code'));
  if (!typeCode) throw new AppError('CDA_INVALID', "Le document CDA n'a pas de type (code).", 'ClinicalDocument/code missing');
  const setId = ii(child(doc, 'setId'));
  const vn = attr(child(doc, 'versionNumber'), 'value');
  const conf = coded(child(doc, 'confidentialityCode'));
  const authors: CdaAuthor[] = children(doc, 'author').map((a) => {
    const time = ts(child(a, 'time'));
    const aa = child(a, 'assignedAuthor');
    const person = assigned(aa, 'assignedPerson', 'representedOrganization');
    // An authoring device (software) instead of a person.
    if (!person.family && child(aa, 'assignedAuthoringDevice')) {
      const dev = text(path(aa, 'assignedAuthoringDevice', 'softwareName'));
      if (dev) person.family = dev;
    }
    return { ...person, ...(time ? { time } : {}) };
  });
  const la = child(doc, 'legalAuthenticator');
  const laTime = ts(child(la, 'time'));
  const related: CdaRelatedDocument[] = children(doc, 'relatedDocument').map((r) => {
    const pd = child(r, 'parentDocument');
    const parentSetId = ii(child(pd, 'setId'));
    const pv = attr(child(pd, 'versionNumber'), 'value');
    return {
      typeCode: attr(r, 'typeCode') ?? '',
      parentIds: children(pd, 'id').map(ii).filter((x): x is InstanceId => !!x),
      ...(parentSetId ? { parentSetId } : {}),
      ...(pv && /^\d+$/.test(pv) ? { parentVersion: Number(pv) } : {}),
    };
  });
  const orderIds: InstanceId[] = [];
  const accessionNumbers: InstanceId[] = [];
  for (const f of children(doc, 'inFulfillmentOf')) {
    for (const o of children(f, 'order')) {
      for (const i of children(o, 'id')) {
        const v = ii(i);
        if (v) orderIds.push(v);
      }
      for (const an of children(o, 'accessionNumber')) {
        const v = ii(an);
        if (v) accessionNumbers.push(v);
      }
    }
  }
  const events = serviceEvents(doc);
  const isImaging = typeCode.code === '18748-4';
  const studyInstanceUids = isImaging
    ? events.map((e) => e.id).filter((x): x is InstanceId => !!x && !x.extension).map((x) => x.root)
    : [];
  const enc = path(doc, 'componentOf', 'encompassingEncounter');
  const encEff = child(enc, 'effectiveTime');
  const encStart = ts(child(encEff, 'low')) ?? ts(encEff);
  const encStop = ts(child(encEff, 'high'));
  const encCode = coded(child(enc, 'code'));
  const facilityType = coded(path(enc, 'location', 'healthCareFacility', 'code'));
  const realm = attr(child(doc, 'realmCode'), 'code');
  const effectiveTime = ts(child(doc, 'effectiveTime'));
  const lang = attr(child(doc, 'languageCode'), 'code');
  const custodian = organization(path(doc, 'custodian', 'assignedCustodian', 'representedCustodianOrganization'));
  const practiceSetting = events.find((e) => e.practiceSetting)?.practiceSetting;
  return {
    ...(realm ? { realmCode: realm } : {}),
    templateIds: children(doc, 'templateId').map(ii).filter((x): x is InstanceId => !!x),
    id,
    ...(setId ? { setId } : {}),
    ...(vn && /^\d+$/.test(vn) ? { versionNumber: Number(vn) } : {}),
    typeCode,
    title: text(child(doc, 'title')) ?? typeCode.displayName ?? typeCode.code,
    ...(effectiveTime ? { effectiveTime } : {}),
    ...(conf ? { confidentiality: conf } : {}),
    ...(lang ? { languageCode: lang } : {}),
    patient: patient(doc),
    authors,
    ...(custodian ? { custodian } : {}),
    ...(la ? { legalAuthenticator: { ...assigned(child(la, 'assignedEntity'), 'assignedPerson', 'representedOrganization'), ...(laTime ? { time: laTime } : {}) } } : {}),
    serviceEvents: events,
    ...(practiceSetting ? { practiceSetting } : {}),
    ...(facilityType ? { facilityType } : {}),
    ...(enc ? { encounter: { ...(encStart ? { start: encStart } : {}), ...(encStop ? { stop: encStop } : {}), ...(encCode ? { code: encCode } : {}) } } : {}),
    relatedDocuments: related,
    orderIds,
    accessionNumbers,
    studyInstanceUids,
  };
}

function decodeB64(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'base64');
}

function body(doc: Element): { body: CdaBody; level: 1 | 3 } {
  const comp = child(doc, 'component');
  const nonXml = child(comp, 'nonXMLBody');
  if (nonXml) {
    const t = child(nonXml, 'text');
    const mediaType = attr(t, 'mediaType') ?? 'text/plain';
    const representation = attr(t, 'representation') ?? 'TXT';
    // A reference to an external file is never fetched.
    const raw = representation === 'B64' ? decodeB64(t?.textContent ?? '') : Buffer.from(t?.textContent ?? '', 'utf8');
    if (mediaType === 'application/pdf') return { body: { kind: 'pdf', mediaType, pdf: raw }, level: 1 };
    if (mediaType === 'text/plain') return { body: { kind: 'text', mediaType, text: raw.toString('utf8') }, level: 1 };
    return { body: { kind: 'file', mediaType, data: raw }, level: 1 };
  }
  const sb = child(comp, 'structuredBody');
  if (!sb) return { body: { kind: 'empty' }, level: 3 };
  const attachments: CdaAttachment[] = [];
  for (const om of Array.from(sb.getElementsByTagNameNS(HL7_NS, 'observationMedia'))) {
    const v = child(om, 'value');
    const mediaType = attr(v, 'mediaType');
    if (!v || !mediaType || attr(v, 'representation') !== 'B64') continue;
    const id = attr(om, 'ID');
    attachments.push({ mediaType, data: decodeB64(v.textContent ?? ''), ...(id ? { id } : {}) });
  }
  // Embedded PDFs in observations (e.g. a lab report's PDF rendering in entry/observation/value ED).
  for (const v of Array.from(sb.getElementsByTagNameNS(HL7_NS, 'value'))) {
    if (v.parentNode && (v.parentNode as Element).localName === 'observationMedia') continue;
    const mediaType = attr(v, 'mediaType');
    if (mediaType && attr(v, 'representation') === 'B64') attachments.push({ mediaType, data: decodeB64(v.textContent ?? '') });
  }
  const { html, sectionCount } = narrativeToHtml(sb);
  return { body: { kind: 'narrative', html, sectionCount, attachments }, level: 3 };
}

function clinicalDocument(bytes: Buffer): Element {
  const doc = parseXmlForReading(bytes, 'CDA').documentElement!;
  if (doc.localName !== 'ClinicalDocument' || doc.namespaceURI !== HL7_NS) {
    throw new AppError('CDA_NOT_CDA', "Ce fichier n'est pas un document CDA R2.", `root element {${doc.namespaceURI}}${doc.localName}`);
  }
  return doc;
}

/** Parses a CDA R2. Throws XML_INVALID (hostile/malformed XML), CDA_NOT_CDA, CDA_INVALID. */
export function parseCda(xml: string | Buffer): ParsedCda {
  const bytes = typeof xml === 'string' ? Buffer.from(xml, 'utf8') : xml;
  const doc = clinicalDocument(bytes);
  const h = header(doc);
  const { body: b, level } = body(doc);
  const generic = new Set(['2.16.840.1.113883.2.8.2.1', '1.2.250.1.213.1.1.1.1', '1.3.6.1.4.1.19376.1.2.20']);
  return { header: h, body: b, bytes, level, modelTemplateIds: h.templateIds.filter((t) => !generic.has(t.root)) };
}

/**
 * The header alone, for readers that only classify and file a document (mail reception): the body is not
 * rendered (its narrative HTML, its base64 attachments), which is most of the work on a large document. The same
 * checks and errors as `parseCda` for the XML and the root; the body is read when the document is displayed.
 */
export function parseCdaHeader(xml: Buffer): Pick<ParsedCda, 'header' | 'bytes'> {
  return { header: header(clinicalDocument(xml)), bytes: xml };
}
