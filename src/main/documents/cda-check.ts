/** `lps cda check`: safe-XML, then the CDA schema, then our CI-SIS "structuration minimale" header rules. */
import { AppError } from '../core/errors';
import { lookupCode } from '../terminology';
import { parseCda } from './cda-parse';
import { INS_KIND_BY_OID, OID } from './oids';
import { validateXmlWithSchema } from './schema-validate';
import type { DocumentProblem, ParsedCda } from './types';

export interface CdaCheckResult {
  ok: boolean;
  schemaChecked: boolean;
  problems: DocumentProblem[];
  parsed?: ParsedCda;
}

function err(code: string, message: string, where?: string): DocumentProblem {
  return { code, severity: 'error', message, ...(where ? { where } : {}) };
}
function warn(code: string, message: string, where?: string): DocumentProblem {
  return { code, severity: 'warning', message, ...(where ? { where } : {}) };
}

/** Header rules (CI-SIS structuration minimale) on a parsed document. */
export function headerProblems(p: ParsedCda): DocumentProblem[] {
  const h = p.header;
  const out: DocumentProblem[] = [];
  if (h.realmCode !== 'FR') out.push(err('CISIS_REALM', 'realmCode doit valoir FR.', 'realmCode'));
  const tpl = new Set(h.templateIds.map((t) => t.root));
  if (!tpl.has(OID.TPL_HL7_FRANCE)) out.push(err('CISIS_TEMPLATE_HL7FR', 'templateId HL7 France (2.16.840.1.113883.2.8.2.1) absent.', 'templateId'));
  if (!tpl.has(OID.TPL_CISIS)) out.push(err('CISIS_TEMPLATE_CISIS', 'templateId CI-SIS (1.2.250.1.213.1.1.1.1) absent.', 'templateId'));
  if (p.level === 1 && !tpl.has(OID.TPL_XDS_SD)) out.push(warn('CISIS_TEMPLATE_XDSSD', 'Document de niveau 1 sans templateId IHE XDS-SD (1.3.6.1.4.1.19376.1.2.20).', 'templateId'));
  if (!h.setId) out.push(err('CISIS_SETID', 'setId absent.', 'setId'));
  if (!h.versionNumber) out.push(err('CISIS_VERSION', 'versionNumber absent ou invalide.', 'versionNumber'));
  if (h.setId && h.versionNumber === 1 && h.setId.root === h.id.root && h.setId.extension === h.id.extension) {
    // allowed by CDA but the CI-SIS wants distinct identifiers
    out.push(warn('CISIS_SETID_EQUALS_ID', 'setId identique à id.', 'setId'));
  }
  if (!lookupCode('J07_TYPE', h.typeCode.code, h.typeCode.codeSystem)) {
    out.push(err('CISIS_TYPECODE', `Type de document ${h.typeCode.code} (${h.typeCode.codeSystem}) hors du jeu de valeurs J07.`, 'code'));
  }
  if (!h.effectiveTime) out.push(err('CISIS_EFFECTIVE_TIME', 'effectiveTime absent.', 'effectiveTime'));
  else if (!/[+-]\d{2}:\d{2}$/.test(h.effectiveTime)) out.push(err('CISIS_EFFECTIVE_TIME_TZ', 'effectiveTime doit porter un fuseau horaire.', 'effectiveTime'));
  if (!h.confidentiality || h.confidentiality.codeSystem !== OID.CONFIDENTIALITY || !['N', 'R', 'V'].includes(h.confidentiality.code)) {
    out.push(err('CISIS_CONFIDENTIALITY', 'confidentialityCode doit être N, R ou V (2.16.840.1.113883.5.25).', 'confidentialityCode'));
  }
  if (h.languageCode !== 'fr-FR') out.push(err('CISIS_LANGUAGE', 'languageCode doit valoir fr-FR.', 'languageCode'));
  const pat = h.patient;
  if (!pat.ids.length) out.push(err('CISIS_PATIENT_ID', 'Aucun identifiant patient.', 'recordTarget/patientRole/id'));
  const firstIns = pat.ids.findIndex((i) => INS_KIND_BY_OID[i.root]);
  if (firstIns > 0) out.push(err('CISIS_INS_FIRST', "L'INS doit être le premier identifiant du patient.", 'recordTarget/patientRole/id'));
  if (pat.ins && !/^[0-9]{13}[0-9]{2}$|^[12][0-9]{4}2[AB][0-9]{8}$/.test(pat.ins.value)) {
    out.push(err('CISIS_INS_FORMAT', `Matricule INS invalide : ${pat.ins.value}.`, 'recordTarget/patientRole/id'));
  }
  if (pat.ins) {
    if (!pat.birthFamily) out.push(err('CISIS_PATIENT_BIRTH_NAME', 'Nom de naissance (family qualifier="BR") absent.', 'patient/name'));
    if (!pat.firstGiven) out.push(err('CISIS_PATIENT_FIRST_GIVEN', 'Premier prénom de naissance absent.', 'patient/name'));
    if (!pat.birthDate) out.push(err('CISIS_PATIENT_BIRTH_DATE', 'Date de naissance absente.', 'patient/birthTime'));
    if (!pat.gender) out.push(err('CISIS_PATIENT_GENDER', 'Sexe absent.', 'patient/administrativeGenderCode'));
  }
  if (!h.authors.length) out.push(err('CISIS_AUTHOR', 'Aucun auteur.', 'author'));
  h.authors.forEach((a, i) => {
    if (!a.time) out.push(err('CISIS_AUTHOR_TIME', 'author/time absent.', `author[${i + 1}]`));
    if (a.code && !lookupCode('J01_AUTHOR_SPECIALTY', a.code.code)) {
      out.push(warn('CISIS_AUTHOR_SPECIALTY', `Profession/spécialité ${a.code.code} hors du jeu de valeurs J01.`, `author[${i + 1}]/assignedAuthor/code`));
    }
  });
  if (!h.custodian) out.push(err('CISIS_CUSTODIAN', 'custodian absent.', 'custodian'));
  if (!h.legalAuthenticator) out.push(err('CISIS_LEGAL_AUTHENTICATOR', 'legalAuthenticator absent.', 'legalAuthenticator'));
  if (!h.serviceEvents.length) out.push(err('CISIS_SERVICE_EVENT', 'documentationOf/serviceEvent absent.', 'documentationOf'));
  if (!h.practiceSetting) out.push(err('CISIS_PRACTICE_SETTING', "Cadre d'exercice (standardIndustryClassCode) absent.", 'documentationOf/serviceEvent/performer'));
  else if (!lookupCode('J04_PRACTICE_SETTING', h.practiceSetting.code)) out.push(err('CISIS_PRACTICE_SETTING_CODE', `Cadre d'exercice ${h.practiceSetting.code} hors J04.`, 'standardIndustryClassCode'));
  if (!h.facilityType) out.push(err('CISIS_FACILITY', "Type d'établissement (healthCareFacility/code) absent.", 'componentOf'));
  else if (!lookupCode('J02_FACILITY_TYPE', h.facilityType.code)) out.push(err('CISIS_FACILITY_CODE', `Type d'établissement ${h.facilityType.code} hors J02.`, 'healthCareFacility/code'));
  for (const r of h.relatedDocuments) {
    if (r.typeCode === 'RPLC' && (h.versionNumber ?? 1) < 2) out.push(warn('CISIS_RPLC_VERSION', 'Remplacement (RPLC) avec versionNumber 1.', 'relatedDocument'));
    if (!r.parentIds.length) out.push(err('CISIS_RELATED_ID', 'relatedDocument sans parentDocument/id.', 'relatedDocument'));
  }
  if (p.body.kind === 'pdf' && p.body.pdf.subarray(0, 5).toString('latin1') !== '%PDF-') out.push(err('CISIS_BODY_PDF', "Le corps annoncé PDF n'est pas un PDF.", 'nonXMLBody'));
  if (p.body.kind === 'empty') out.push(err('CISIS_BODY', 'Corps du document absent.', 'component'));
  return out;
}

export async function checkCda(xml: string | Buffer, opts: { schemaDir?: string } = {}): Promise<CdaCheckResult> {
  const problems: DocumentProblem[] = [];
  let parsed: ParsedCda;
  try {
    parsed = parseCda(xml); // safe-XML first: hostile XML never reaches xmllint
  } catch (e) {
    if (e instanceof AppError) return { ok: false, schemaChecked: false, problems: [err(e.code, e.userMessage + (e.detail ? ` (${e.detail})` : ''))] };
    throw e;
  }
  const schema = await validateXmlWithSchema(parsed.bytes, 'cda', opts);
  if (!schema) problems.push(warn('SCHEMA_UNAVAILABLE', 'Schéma CDA introuvable (LPS_SCHEMAS_DIR) : validation XSD non faite.'));
  else for (const e of schema.errors) problems.push(err('CDA_SCHEMA', e.message, e.line ? `ligne ${e.line}` : undefined));
  problems.push(...headerProblems(parsed));
  return { ok: !problems.some((p) => p.severity === 'error'), schemaChecked: !!schema, problems, parsed };
}
