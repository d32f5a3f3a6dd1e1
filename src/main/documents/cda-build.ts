/** Builds CI-SIS "structuration minimale" CDA R2 documents (level 1: PDF or plain-text body). */
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../core/errors';
import { labelOf, lookupCode } from '../terminology';
import { parseCdaRequest, type CdaRequest } from './cda-request';
import { parseCda } from './cda-parse';
import { OID } from './oids';
import type { InstanceId, ParsedCda } from './types';
import { dateToHl7Local, el, esc, isoToHl7, newOid } from './xml-util';

export interface BuildCdaOptions {
  /** Folder the request's relative paths (pdf) are resolved against. */
  baseDir?: string;
  /** Creation time (tests); default now. */
  now?: Date;
}

export interface BuiltCda {
  xml: string;
  bytes: Buffer;
  parsed: ParsedCda;
}

function readBody(req: CdaRequest, baseDir: string): { mediaType: string; b64: string } {
  if (req.document.text !== undefined) {
    return { mediaType: 'text/plain', b64: Buffer.from(req.document.text, 'utf8').toString('base64') };
  }
  const file = path.resolve(baseDir, req.document.pdf!);
  let pdf: Buffer;
  try {
    pdf = fs.readFileSync(file);
  } catch (err) {
    throw new AppError('CDA_PDF_UNREADABLE', `Le fichier PDF ${path.basename(file)} est introuvable ou illisible.`, (err as Error).message);
  }
  if (pdf.length < 8 || pdf.subarray(0, 5).toString('latin1') !== '%PDF-') {
    throw new AppError('CDA_PDF_INVALID', `Le fichier ${path.basename(file)} n'est pas un PDF.`, 'missing %PDF- header');
  }
  return { mediaType: 'application/pdf', b64: pdf.toString('base64') };
}

function wrap64(b64: string): string {
  return b64.replace(/(.{76})/g, '$1\n');
}

function ii(id: InstanceId): string {
  return el('id', { root: id.root, extension: id.extension });
}

/** Builds the CDA XML from a validated request. */
function render(req: CdaRequest, opts: BuildCdaOptions, version: { id: InstanceId; setId: InstanceId; versionNumber: number; replaces?: InstanceId }): string {
  const now = opts.now ?? new Date();
  const created = req.document.effectiveTime ? isoToHl7(req.document.effectiveTime) : dateToHl7Local(now);
  const authorTime = req.author.time ? isoToHl7(req.author.time) : created;
  const body = readBody(req, opts.baseDir ?? process.cwd());
  const p = req.patient;
  const a = req.author;
  const d = req.document;

  const typeConcept = lookupCode('J07_TYPE', d.typeCode, d.typeCodeSystem);
  const typeSystem = d.typeCodeSystem ?? typeConcept?.codeSystem ?? OID.LOINC;
  const typeLabel = typeConcept?.displayName;
  const authorCode = a.specialty ? `G15_${a.profession}/${a.specialty}` : `G15_${a.profession}`;
  const authorLabel = labelOf('J01_AUTHOR_SPECIALTY', authorCode);
  const facility = lookupCode('J02_FACILITY_TYPE', d.facilityType);
  const setting = lookupCode('J04_PRACTICE_SETTING', d.practiceSetting);
  const confLabel = labelOf('J08_CONFIDENTIALITY', d.confidentiality, OID.CONFIDENTIALITY);
  const orgRoot = a.organization.idRoot ?? OID.STRUCTURE_ID;

  const patientIds: string[] = [];
  if (p.ins && p.insQualified) patientIds.push(el('id', { root: p.insOid, extension: p.ins }));
  if (p.ipp) patientIds.push(el('id', { root: p.ipp.oid, extension: p.ipp.id, assigningAuthorityName: p.ipp.name }));

  const names =
    el('family', { qualifier: 'BR' }, esc(p.birthFamily)) +
    el('given', {}, esc(p.birthGiven)) +
    el('given', { qualifier: 'BR' }, esc(p.firstGiven)) +
    (p.usedFamily ? el('family', { qualifier: 'CL' }, esc(p.usedFamily)) : '') +
    (p.usedGiven ? el('given', { qualifier: 'CL' }, esc(p.usedGiven)) : '');

  const assignedPerson = el(
    'assignedPerson',
    {},
    el('name', {}, (a.prefix ? el('prefix', {}, esc(a.prefix)) : '') + el('given', {}, esc(a.given)) + el('family', {}, esc(a.family))),
  );
  const org = el('id', { root: orgRoot, extension: a.organization.id }) + el('name', {}, esc(a.organization.name));
  const authorId = el('id', { root: OID.PS_ID, extension: a.idNat });
  const serviceTime =
    el('low', { value: isoToHl7(d.serviceStart) }) + (d.serviceStop ? el('high', { value: isoToHl7(d.serviceStop) }) : '');

  const parts: string[] = [];
  parts.push('<?xml version="1.0" encoding="UTF-8"?>');
  parts.push('<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">');
  parts.push(el('realmCode', { code: 'FR' }));
  parts.push(el('typeId', { root: '2.16.840.1.113883.1.3', extension: 'POCD_HD000040' }));
  parts.push(el('templateId', { root: OID.TPL_HL7_FRANCE }));
  parts.push(el('templateId', { root: OID.TPL_CISIS }));
  parts.push(el('templateId', { root: OID.TPL_XDS_SD }));
  parts.push(ii(version.id));
  parts.push(el('code', { code: d.typeCode, codeSystem: typeSystem, displayName: typeLabel }));
  parts.push(el('title', {}, esc(d.title)));
  parts.push(el('effectiveTime', { value: created }));
  parts.push(el('confidentialityCode', { code: d.confidentiality, codeSystem: OID.CONFIDENTIALITY, displayName: confLabel }));
  parts.push(el('languageCode', { code: 'fr-FR' }));
  parts.push(el('setId', { root: version.setId.root, extension: version.setId.extension }));
  parts.push(el('versionNumber', { value: version.versionNumber }));
  parts.push(
    el(
      'recordTarget',
      {},
      el(
        'patientRole',
        {},
        patientIds.join('') +
          el(
            'patient',
            { classCode: 'PSN' },
            el('name', {}, names) +
              el('administrativeGenderCode', { code: p.gender, codeSystem: OID.GENDER }) +
              el('birthTime', { value: isoToHl7(p.birthDate) }) +
              (p.birthPlace ? el('birthplace', {}, el('place', {}, el('addr', {}, el('county', {}, esc(p.birthPlace))))) : ''),
          ),
      ),
    ),
  );
  parts.push(
    el(
      'author',
      {},
      el('time', { value: authorTime }) +
        el(
          'assignedAuthor',
          {},
          authorId +
            el('code', { code: authorCode, codeSystem: OID.AUTHOR_SPECIALTY, displayName: authorLabel }) +
            assignedPerson +
            el('representedOrganization', {}, org),
        ),
    ),
  );
  parts.push(
    el(
      'custodian',
      {},
      el('assignedCustodian', {}, el('representedCustodianOrganization', {}, org)),
    ),
  );
  parts.push(
    el(
      'legalAuthenticator',
      {},
      el('time', { value: authorTime }) + el('signatureCode', { code: 'S' }) + el('assignedEntity', {}, authorId + assignedPerson),
    ),
  );
  if (d.orderId || d.accessionNumber) {
    parts.push(
      el(
        'inFulfillmentOf',
        {},
        el(
          'order',
          {},
          (d.orderId ? ii(d.orderId) : el('id', { nullFlavor: 'UNK' })) +
            (d.accessionNumber ? el('ps3-20:accessionNumber', { 'xmlns:ps3-20': 'urn:dicom-org:ps3-20', root: d.accessionNumber.root, extension: d.accessionNumber.extension }) : ''),
        ),
      ),
    );
  }
  parts.push(
    el(
      'documentationOf',
      {},
      el(
        'serviceEvent',
        {},
        (d.serviceCode ? el('code', { code: d.serviceCode.code, codeSystem: d.serviceCode.codeSystem, displayName: d.serviceCode.displayName }) : '') +
          el('effectiveTime', {}, serviceTime) +
          el(
            'performer',
            { typeCode: 'PRF' },
            el(
              'assignedEntity',
              {},
              authorId +
                assignedPerson +
                el(
                  'representedOrganization',
                  {},
                  org +
                    el('standardIndustryClassCode', {
                      code: d.practiceSetting,
                      codeSystem: setting?.codeSystem ?? OID.PRACTICE_SETTING,
                      displayName: setting?.displayName,
                    }),
                ),
            ),
          ),
      ),
    ),
  );
  if (version.replaces) {
    parts.push(el('relatedDocument', { typeCode: 'RPLC' }, el('parentDocument', {}, ii(version.replaces))));
  }
  parts.push(
    el(
      'componentOf',
      {},
      el(
        'encompassingEncounter',
        {},
        el('effectiveTime', {}, serviceTime) +
          el(
            'location',
            {},
            el(
              'healthCareFacility',
              {},
              el('code', { code: d.facilityType, codeSystem: facility?.codeSystem ?? OID.FACILITY_TYPE, displayName: facility?.displayName }),
            ),
          ),
      ),
    ),
  );
  parts.push(el('component', {}, el('nonXMLBody', {}, el('text', { mediaType: body.mediaType, representation: 'B64' }, '\n' + wrap64(body.b64) + '\n'))));
  parts.push('</ClinicalDocument>');
  return parts.join('\n') + '\n';
}

/** Builds a CDA R2 (first version, or the version/setId given in the request). */
export function buildCda(request: CdaRequest | unknown, opts: BuildCdaOptions = {}): BuiltCda {
  const req = parseCdaRequest(request);
  const xml = render(req, opts, {
    id: { root: req.document.id ?? newOid() },
    setId: { root: req.document.setId ?? newOid() },
    versionNumber: req.document.versionNumber ?? 1,
    replaces: req.document.replaces ? { root: req.document.replaces } : undefined,
  });
  const bytes = Buffer.from(xml, 'utf8');
  return { xml, bytes, parsed: parseCda(bytes) };
}

/** A new version of `previous`: same setId, versionNumber + 1, relatedDocument RPLC → previous id. */
export function buildNewVersion(previous: ParsedCda, request: CdaRequest | unknown, opts: BuildCdaOptions = {}): BuiltCda {
  const req = parseCdaRequest(request);
  const prevIns = previous.header.patient.ins?.value;
  if (prevIns && req.patient.ins && req.patient.insQualified && prevIns !== req.patient.ins) {
    throw new AppError(
      'CDA_VERSION_PATIENT_MISMATCH',
      "La nouvelle version ne concerne pas le même patient que le document qu'elle remplace.",
      `previous INS ${prevIns} ≠ ${req.patient.ins}`,
    );
  }
  const setId = previous.header.setId;
  if (!setId) throw new AppError('CDA_NO_SETID', "Le document à remplacer n'a pas de setId.", 'previous document has no setId');
  const xml = render(req, opts, {
    id: { root: newOid() },
    setId,
    versionNumber: (previous.header.versionNumber ?? 1) + 1,
    replaces: previous.header.id,
  });
  const bytes = Buffer.from(xml, 'utf8');
  return { xml, bytes, parsed: parseCda(bytes) };
}
