import crypto from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { AppError } from '../core/errors';
import { deriveXdsMetadata, parseCda, uniqueIdOf, type XdsCode, type XdsDocumentEntry } from '../documents';
import { parseXml } from '../xml/safe-xml';
import type { Coded, DocumentEntry, XdsAuthor } from './ebrim';
import { OID, parsePatientId, patientIdOf, type MaskingCode } from './protocol';
import { attr, child, children, descendants, text } from './xml-util';

/**
 * CDA R2 header → XDS DocumentEntry.
 *
 * `entryFromDocuments` is what the client uses: the documents capability's one mapping for DMP and XDM
 * (`parseCda` + `deriveXdsMetadata`), so a Y-mode document has the same metadata on both routes.
 * `entryFromCda` is the reduced mapping written before that capability existed; it stays for the benchmark and
 * as an independent cross-check in the tests.
 */

const fromXdsCode = (c: XdsCode): Coded => ({ code: c.code, scheme: c.codingScheme, display: c.displayName });

/** The documents capability's XdsDocumentEntry in the DMP client's model. */
export function fromXdsDocumentEntry(x: XdsDocumentEntry): DocumentEntry {
  return {
    entryUuid: x.entryUUID,
    uniqueId: x.uniqueId,
    mimeType: x.mimeType,
    ...(x.hash ? { hash: x.hash } : {}),
    ...(x.size !== undefined ? { size: x.size } : {}),
    ...(x.repositoryUniqueId ? { repositoryUniqueId: x.repositoryUniqueId } : {}),
    title: x.title,
    ...(x.comments ? { comments: x.comments } : {}),
    patientId: x.patientId,
    sourcePatientId: x.sourcePatientId,
    sourcePatientInfo: x.sourcePatientInfo,
    creationTime: x.creationTime,
    ...(x.serviceStartTime ? { serviceStartTime: x.serviceStartTime } : {}),
    ...(x.serviceStopTime ? { serviceStopTime: x.serviceStopTime } : {}),
    languageCode: x.languageCode,
    ...(x.legalAuthenticator ? { legalAuthenticator: x.legalAuthenticator } : {}),
    authors: x.authors.map((a) => ({ ...(a.authorPerson ? { person: a.authorPerson } : {}), institutions: a.authorInstitution, roles: a.authorRole, specialties: a.authorSpecialty })),
    classCode: fromXdsCode(x.classCode),
    typeCode: fromXdsCode(x.typeCode),
    formatCode: fromXdsCode(x.formatCode),
    healthcareFacilityTypeCode: fromXdsCode(x.healthcareFacilityTypeCode),
    practiceSettingCode: fromXdsCode(x.practiceSettingCode),
    confidentialityCodes: x.confidentialityCodes.map(fromXdsCode),
    eventCodes: x.eventCodes.map(fromXdsCode),
    referenceIds: x.referenceIdList,
    ...(Object.keys(x.extraSlots ?? {}).length ? { extraSlots: x.extraSlots } : {}),
  };
}

/** CDA → DocumentEntry through the documents capability (the Y-mode mapping). */
export function entryFromDocuments(cda: Buffer, opts: { masking?: MaskingCode[]; referenceIds?: string[]; sourceId: string }): { entry: DocumentEntry; info: CdaInfo } {
  const parsed = parseCda(cda);
  const m = new Set(opts.masking ?? []);
  const sub = deriveXdsMetadata(parsed, {
    sourceId: opts.sourceId,
    patientIdMode: 'ins',
    documents: [
      {
        masking: { maskedFromPS: m.has('MASQUE_PS'), invisibleToPatient: m.has('INVISIBLE_PATIENT'), invisibleToLegalRepresentatives: m.has('INVISIBLE_REPRESENTANTS_LEGAUX') },
        ...(opts.referenceIds?.length ? { referenceIdList: opts.referenceIds } : {}),
      },
    ],
  });
  const x = sub.documents[0]!;
  const entry = fromXdsDocumentEntry(x);
  const pid = parsePatientId(x.patientId);
  if (!pid) throw new AppError('DMP_CDA_INCOMPLETE', "L'en-tête du document CDA est incomplet : le premier identifiant du patient doit être son INS.", x.patientId);
  const rplc = parsed.header.relatedDocuments.find((r) => r.typeCode === 'RPLC')?.parentIds[0];
  return {
    entry,
    info: {
      uniqueId: uniqueIdOf(parsed),
      ins: pid.ins,
      insOid: pid.insOid,
      ...(rplc ? { replacesId: rplc.extension ? `${rplc.root}^${rplc.extension}` : rplc.root } : {}),
      title: x.title,
      typeCode: fromXdsCode(x.typeCode),
    },
  };
}

const H = 'urn:hl7-org:v3';

/** typeCode (LOINC) → classCode (1.2.250.1.213.1.1.4.1). A small table of the common types; default: 10. */
const CLASS_OF_TYPE: Record<string, Coded> = {
  '18748-4': { code: '31', scheme: '1.2.250.1.213.1.1.4.1', display: 'Imagerie médicale' },
  '11502-2': { code: '30', scheme: '1.2.250.1.213.1.1.4.1', display: 'Biologie' },
  '60591-5': { code: '60', scheme: '1.2.250.1.213.1.1.4.1', display: 'Synthèse' },
  '11490-0': { code: '10', scheme: '1.2.250.1.213.1.1.4.1', display: 'Compte rendu' },
  '11488-4': { code: '10', scheme: '1.2.250.1.213.1.1.4.1', display: 'Compte rendu' },
};
const DEFAULT_CLASS: Coded = { code: '10', scheme: '1.2.250.1.213.1.1.4.1', display: 'Compte rendu' };

/** formatCode by CDA template (structured CR-IMG, VSM, level-1 PDF); else the generic CI-SIS structured format. */
function formatOf(root: Element): Coded {
  const templates = children(root, H, 'templateId').map((t) => attr(t, 'root') ?? '');
  const body = child(root, H, 'component');
  const nonXml = body ? child(body, H, 'nonXMLBody') : undefined;
  if (nonXml || templates.includes('1.3.6.1.4.1.19376.1.2.20')) return { code: 'urn:ihe:iti:xds-sd:pdf:2008', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'Document à corps non structuré en Pdf/A-1' };
  if (templates.includes('1.2.250.1.213.1.1.1.29')) return { code: 'urn:asip:ci-sis:vsm:2012', scheme: '1.2.250.1.213.1.1.4.2.282', display: 'Volet de Synthèse Médicale' };
  if (templates.includes('1.3.6.1.4.1.19376.1.4.1.1.1')) return { code: 'urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013', scheme: '1.3.6.1.4.1.19376.1.2.3', display: "CR d'imagerie" };
  return { code: 'urn:ihe:iti:xds-sd:text:2008', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'Document à corps non structuré en texte' };
}

const hl7ToDtm = (v: string | undefined): string | undefined => {
  if (!v) return undefined;
  const m = /^(\d{4,14})(?:\.\d+)?([+-]\d{4})?$/.exec(v);
  if (!m) return undefined;
  const digits = m[1]!;
  if (!m[2] || digits.length < 12) return digits;
  // Convert to UTC, as XDS times are.
  const pad = digits.padEnd(14, '0');
  const local = Date.UTC(+pad.slice(0, 4), +pad.slice(4, 6) - 1, +pad.slice(6, 8), +pad.slice(8, 10), +pad.slice(10, 12), +pad.slice(12, 14));
  const sign = m[2].startsWith('-') ? -1 : 1;
  const off = sign * (+m[2].slice(1, 3) * 60 + +m[2].slice(3, 5)) * 60_000;
  return new Date(local - off).toISOString().replace(/[-:T]/g, '').slice(0, digits.length);
};

const coded = (e: Element | undefined): Coded | undefined =>
  e && attr(e, 'code') ? { code: attr(e, 'code')!, scheme: attr(e, 'codeSystem') ?? '', display: attr(e, 'displayName') ?? attr(e, 'code')! } : undefined;

function idOf(e: Element | undefined): { root?: string; extension?: string } {
  return { root: attr(e, 'root'), extension: attr(e, 'extension') };
}

export interface CdaInfo {
  uniqueId: string;
  setId?: string;
  version?: string;
  ins: string;
  insOid: string;
  /** `id` of the version this document replaces (relatedDocument RPLC). */
  replacesId?: string;
  title: string;
  typeCode: Coded;
}

function xcnOf(assigned: Element | undefined): string | undefined {
  if (!assigned) return undefined;
  const id = idOf(child(assigned, H, 'id'));
  const person = child(assigned, H, 'assignedPerson');
  const name = person ? child(person, H, 'name') : undefined;
  const family = text(name ? child(name, H, 'family') : undefined);
  const given = text(name ? child(name, H, 'given') : undefined);
  if (!id.extension) return undefined;
  return `${id.extension}^${family}^${given}^^^^^^&${id.root ?? OID.idnps}&ISO^D^^^IDNPS`;
}

/** Parses the CDA header and builds the document's DocumentEntry (masking chosen by the user). */
export function entryFromCda(cda: Buffer, opts: { masking?: MaskingCode[]; entryUuid?: string; referenceIds?: string[] } = {}): { entry: DocumentEntry; info: CdaInfo } {
  const doc = parseXml(cda, 'CDA');
  const root = doc.documentElement!;
  if (root.namespaceURI !== H || root.localName !== 'ClinicalDocument') {
    throw new AppError('DMP_NOT_CDA', "Le fichier n'est pas un document CDA R2 : seul ce format peut être déposé dans le DMP.", `root {${root.namespaceURI}}${root.localName}`);
  }
  const bad = (what: string): never => {
    throw new AppError('DMP_CDA_INCOMPLETE', `L'en-tête du document CDA est incomplet : ${what}.`, what);
  };
  const id = idOf(child(root, H, 'id'));
  if (!id.root) bad("identifiant du document (id) absent");
  const uniqueId = id.extension ? `${id.root}^${id.extension}` : id.root!;
  const typeCode = coded(child(root, H, 'code')) ?? bad('type de document (code) absent');
  const patientRole = descendants(root, H, 'patientRole')[0] ?? bad('patient (recordTarget) absent');
  const ins = idOf(child(patientRole, H, 'id'));
  if (!ins.extension || !ins.root || !ins.root.startsWith('1.2.250.1.213.1.4.')) bad("le premier identifiant du patient doit être son INS");
  const patient = child(patientRole, H, 'patient');
  const names = patient ? children(patient, H, 'name') : [];
  const fam = names.flatMap((n) => children(n, H, 'family'));
  const giv = names.flatMap((n) => children(n, H, 'given'));
  const family = text(fam.find((f) => attr(f, 'qualifier') === 'BR') ?? fam[0]);
  const given = text(giv.find((g) => attr(g, 'qualifier') === 'BR') ?? giv[0]);
  const birth = attr(patient ? child(patient, H, 'birthTime') : undefined, 'value') ?? '';
  const gender = attr(patient ? child(patient, H, 'administrativeGenderCode') : undefined, 'code') ?? 'U';

  const authors: XdsAuthor[] = children(root, H, 'author').map((a) => {
    const assigned = child(a, H, 'assignedAuthor');
    const org = assigned ? child(assigned, H, 'representedOrganization') : undefined;
    const orgId = idOf(org ? child(org, H, 'id') : undefined);
    const orgName = text(org ? child(org, H, 'name') : undefined);
    const role = coded(assigned ? child(assigned, H, 'code') : undefined);
    return {
      person: xcnOf(assigned),
      institutions: orgId.extension ? [`${orgName}^^^^^&${orgId.root ?? OID.idnst}&ISO^IDNST^^^${orgId.extension}`] : [],
      roles: [],
      specialties: role ? [`${role.code}^${role.display}^${role.scheme}`] : [],
    };
  });
  if (!authors.length) bad('auteur absent');
  const legal = child(root, H, 'legalAuthenticator');
  const serviceEvents = descendants(root, H, 'serviceEvent');
  const se = serviceEvents[0];
  const seTime = se ? child(se, H, 'effectiveTime') : undefined;
  const eventCodes: Coded[] = [];
  for (const ev of serviceEvents) {
    const c = child(ev, H, 'code');
    for (const t of c ? children(c, H, 'translation') : []) {
      const x = coded(t);
      if (x && (x.scheme === '1.2.840.10008.2.16.4' || x.scheme === '2.16.840.1.113883.6.96' || x.scheme === '1.2.250.1.215.300.1')) {
        if (!eventCodes.some((e) => e.code === x.code && e.scheme === x.scheme)) eventCodes.push(x);
      }
    }
  }
  const facility = coded(descendants(root, H, 'healthCareFacility').map((h) => child(h, H, 'code'))[0]) ?? { code: 'SA07', scheme: OID.sector, display: 'Cabinet individuel' };
  const practice =
    coded(descendants(root, H, 'standardIndustryClassCode')[0]) ?? { code: 'AMBULATOIRE', scheme: '1.2.250.1.213.1.1.4.9', display: 'Ambulatoire' };
  const practiceSetting: Coded = { ...practice, scheme: practice.scheme === '1.2.250.1.213.1.1.4.9' ? '1.2.250.1.213.1.1.4.9' : practice.scheme };
  const conf = coded(child(root, H, 'confidentialityCode')) ?? { code: 'N', scheme: OID.confidentiality, display: 'Normal' };
  const maskingLabels: Record<MaskingCode, string> = {
    MASQUE_PS: 'Masqué aux professionnels de santé',
    INVISIBLE_PATIENT: 'Non visible par le patient',
    INVISIBLE_REPRESENTANTS_LEGAUX: 'Non visible par les représentants légaux du patient',
  };
  const related = children(root, H, 'relatedDocument').find((r) => attr(r, 'typeCode') === 'RPLC');
  const parentId = related ? idOf(descendants(related, H, 'id')[0]) : undefined;
  const title = text(child(root, H, 'title')) || typeCode.display;
  const hash = crypto.createHash('sha1').update(cda).digest('hex');
  const pid = patientIdOf(ins.extension!, ins.root!);
  const entry: DocumentEntry = {
    entryUuid: opts.entryUuid ?? `Document${crypto.randomUUID().slice(0, 8)}`,
    uniqueId,
    mimeType: 'text/xml',
    hash,
    size: cda.length,
    title,
    patientId: pid,
    sourcePatientId: pid,
    sourcePatientInfo: [`PID-5|${family}^${given}^^^^^L`, `PID-7|${birth.slice(0, 8)}`, `PID-8|${gender}`],
    creationTime: hl7ToDtm(attr(child(root, H, 'effectiveTime'), 'value')),
    serviceStartTime: hl7ToDtm(attr(seTime ? child(seTime, H, 'low') : undefined, 'value')),
    serviceStopTime: hl7ToDtm(attr(seTime ? child(seTime, H, 'high') : undefined, 'value')),
    languageCode: attr(child(root, H, 'languageCode'), 'code') ?? 'fr-FR',
    legalAuthenticator: xcnOf(legal ? child(legal, H, 'assignedEntity') : undefined),
    authors,
    classCode: CLASS_OF_TYPE[typeCode.code] ?? DEFAULT_CLASS,
    typeCode,
    formatCode: formatOf(root),
    healthcareFacilityTypeCode: facility,
    practiceSettingCode: practiceSetting,
    confidentialityCodes: [conf, ...(opts.masking ?? []).map((m) => ({ code: m, scheme: OID.masking, display: maskingLabels[m] }))],
    eventCodes,
    referenceIds: opts.referenceIds ?? [],
  };
  return {
    entry,
    info: {
      uniqueId,
      setId: attr(child(root, H, 'setId'), 'root'),
      version: attr(child(root, H, 'versionNumber'), 'value'),
      ins: ins.extension!,
      insOid: ins.root!,
      replacesId: parentId?.root ? (parentId.extension ? `${parentId.root}^${parentId.extension}` : parentId.root) : undefined,
      title,
      typeCode,
    },
  };
}
