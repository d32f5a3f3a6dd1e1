import { X509Certificate } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { NS, OID, parsePatientId, patientIdOf } from './protocol';
import { serializeXml } from '../xml/safe-xml';
import { attr, child, children, descendant, esc, text } from './xml-util';
import { signAssertion, type PemSigner } from './xmlsig';

/**
 * The VIHF: the SAML 2.0 assertion carried in WS-Security by every DMP call (identity, role, structure,
 * patient, software, authentication mode). Attribute names as in dmp.md.
 */

export type AuthMode = 'DIRECTE' | 'INDIRECTE' | 'INDIRECTE_RENFORCEE';
export type PurposeOfUse = 'normal' | 'bris_de_glace' | 'centre_de_regulation';

export interface VihfRole {
  code: string;
  codeSystem: string;
  displayName?: string;
}

export interface VihfInput {
  mode: AuthMode;
  /** DN of the signing certificate (RFC 4514 order). */
  issuerDn: string;
  /** The user: national id (`8<RPPS>`) or `<structure>/<local id>`. */
  nameId: string;
  subjectName: string;
  roles: VihfRole[];
  /** `SAxx` sector of activity. */
  sector: string;
  structureId: string;
  patient: { ins: string; insOid: string };
  purposeOfUse?: PurposeOfUse;
  lps: { id: string; name: string; version: string; homologation: string };
  invisibleToLegalReps?: boolean;
  validityMinutes?: number;
  now?: Date;
}

export const VIHF_ATTR = {
  version: 'VIHF_Version',
  role: 'urn:oasis:names:tc:xacml:2.0:subject:role',
  sector: 'Secteur_Activite',
  resourceUrn: 'Ressource_URN',
  resourceId: 'urn:oasis:names:tc:xacml:2.0:resource:resource-id',
  subjectId: 'urn:oasis:names:tc:xspa:1.0:subject:subject-id',
  purposeOfUse: 'urn:oasis:names:tc:xspa:1.0:subject:purposeofuse',
  structure: 'Identifiant_Structure',
  lpsId: 'LPS_ID',
  lpsName: 'LPS_Nom',
  lpsVersion: 'LPS_Version',
  lpsHomologation: 'LPS_ID_HOMOLOGATION_DMP',
  mode: 'Authentification_Mode',
  confidentiality: 'urn:oasis:names:tc:xspa:1.0:resource:patient:hl7:confidentiality-code',
} as const;

/** The attributes the test server requires in every VIHF. */
export const REQUIRED_ATTRS = [
  VIHF_ATTR.version, VIHF_ATTR.role, VIHF_ATTR.sector, VIHF_ATTR.resourceUrn, VIHF_ATTR.resourceId, VIHF_ATTR.subjectId,
  VIHF_ATTR.purposeOfUse, VIHF_ATTR.structure, VIHF_ATTR.lpsId, VIHF_ATTR.lpsName, VIHF_ATTR.lpsVersion, VIHF_ATTR.lpsHomologation, VIHF_ATTR.mode,
] as const;

const AUTHN_CLASS: Record<AuthMode, string> = {
  DIRECTE: 'urn:oasis:names:tc:SAML:2.0:ac:classes:SmartcardPKI',
  INDIRECTE: 'urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient',
  INDIRECTE_RENFORCEE: 'urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient',
};

/** DN of a certificate in RFC 4514 order (most specific first), as the VIHF Issuer carries it. */
export function dnOf(cert: X509Certificate | string): string {
  const c = typeof cert === 'string' ? new X509Certificate(cert) : cert;
  return c.subject.split('\n').reverse().join(',');
}

function attribute(name: string, valuesXml: string[]): string {
  return `<saml2:Attribute Name="${esc(name)}">${valuesXml.map((v) => `<saml2:AttributeValue>${v}</saml2:AttributeValue>`).join('')}</saml2:Attribute>`;
}

export function buildVihf(input: VihfInput): { xml: string; id: string } {
  const now = input.now ?? new Date();
  const iso = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + (input.validityMinutes ?? 30) * 60_000);
  const id = `_${crypto.randomUUID()}`;
  const pou = input.purposeOfUse ?? 'normal';
  const attrs = [
    attribute(VIHF_ATTR.version, ['3.0']),
    attribute(
      VIHF_ATTR.role,
      input.roles.map(
        (r) => `<Role xmlns="${NS.hl7}" xsi:type="CE" code="${esc(r.code)}" codeSystem="${esc(r.codeSystem)}"${r.displayName ? ` displayName="${esc(r.displayName)}"` : ''}/>`,
      ),
    ),
    attribute(VIHF_ATTR.sector, [esc(`${input.sector}^${OID.sector}`)]),
    attribute(VIHF_ATTR.resourceUrn, ['urn:dmp']),
    attribute(VIHF_ATTR.resourceId, [esc(patientIdOf(input.patient.ins, input.patient.insOid))]),
    attribute(VIHF_ATTR.subjectId, [esc(input.subjectName)]),
    attribute(VIHF_ATTR.purposeOfUse, [`<PurposeOfUse xmlns="${NS.hl7}" xsi:type="CE" code="${esc(pou)}" codeSystem="${OID.purposeOfUse}"/>`]),
    attribute(VIHF_ATTR.structure, [esc(input.structureId)]),
    attribute(VIHF_ATTR.lpsId, [esc(input.lps.id)]),
    attribute(VIHF_ATTR.lpsName, [esc(input.lps.name)]),
    attribute(VIHF_ATTR.lpsVersion, [esc(input.lps.version)]),
    attribute(VIHF_ATTR.lpsHomologation, [esc(input.lps.homologation)]),
    attribute(VIHF_ATTR.mode, [input.mode]),
    ...(input.invisibleToLegalReps ? [attribute(VIHF_ATTR.confidentiality, [`INVISIBLE_REPRESENTANTS_LEGAUX^${OID.masking}`])] : []),
  ];
  const xml =
    `<saml2:Assertion xmlns:saml2="${NS.saml}" xmlns:xsi="${NS.xsi}" ID="${id}" IssueInstant="${iso(now)}" Version="2.0">` +
    `<saml2:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName">${esc(input.issuerDn)}</saml2:Issuer>` +
    `<saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${esc(input.nameId)}</saml2:NameID></saml2:Subject>` +
    `<saml2:Conditions NotBefore="${iso(notBefore)}" NotOnOrAfter="${iso(notAfter)}"/>` +
    `<saml2:AuthnStatement AuthnInstant="${iso(now)}"><saml2:AuthnContext><saml2:AuthnContextClassRef>${AUTHN_CLASS[input.mode]}</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>` +
    `<saml2:AttributeStatement>${attrs.join('')}</saml2:AttributeStatement>` +
    `</saml2:Assertion>`;
  return { xml, id };
}

/** Builds and signs (required in indirect mode, optional in direct mode). */
export function buildSignedVihf(input: VihfInput, signer?: PemSigner): string {
  const { xml } = buildVihf(input);
  return signer ? signAssertion(xml, signer) : xml;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing (server side, and tests)

export interface VihfClaims {
  id: string;
  issuer: string;
  nameId: string;
  notBefore?: Date;
  notOnOrAfter?: Date;
  authnClass?: string;
  attributes: Map<string, Element[]>;
  mode?: AuthMode;
  structureId?: string;
  subjectName?: string;
  patient?: { ins: string; insOid: string };
  roles: VihfRole[];
  purposeOfUse?: string;
  invisibleToLegalReps: boolean;
  signed: boolean;
}

export function parseVihf(assertion: Element): VihfClaims {
  const issuer = text(child(assertion, NS.saml, 'Issuer'));
  const subject = child(assertion, NS.saml, 'Subject');
  const cond = child(assertion, NS.saml, 'Conditions');
  const date = (v: string | undefined): Date | undefined => {
    if (!v) return undefined;
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? undefined : d;
  };
  const attributes = new Map<string, Element[]>();
  const statement = child(assertion, NS.saml, 'AttributeStatement');
  for (const a of statement ? children(statement, NS.saml, 'Attribute') : []) {
    attributes.set(attr(a, 'Name') ?? '', children(a, NS.saml, 'AttributeValue'));
  }
  const first = (n: string): string | undefined => {
    const v = attributes.get(n)?.[0];
    return v ? text(v) : undefined;
  };
  const codedOf = (v: Element): VihfRole | undefined => {
    const e = children(v)[0];
    return e ? { code: attr(e, 'code') ?? '', codeSystem: attr(e, 'codeSystem') ?? '', displayName: attr(e, 'displayName') } : undefined;
  };
  const resource = first(VIHF_ATTR.resourceId);
  const mode = first(VIHF_ATTR.mode);
  const pou = attributes.get(VIHF_ATTR.purposeOfUse)?.[0];
  return {
    id: attr(assertion, 'ID') ?? '',
    issuer,
    nameId: subject ? text(child(subject, NS.saml, 'NameID')) : '',
    notBefore: date(attr(cond, 'NotBefore')),
    notOnOrAfter: date(attr(cond, 'NotOnOrAfter')),
    authnClass: text(descendant(assertion, NS.saml, 'AuthnContextClassRef')) || undefined,
    attributes,
    mode: mode === 'DIRECTE' || mode === 'INDIRECTE' || mode === 'INDIRECTE_RENFORCEE' ? mode : undefined,
    structureId: first(VIHF_ATTR.structure),
    subjectName: first(VIHF_ATTR.subjectId),
    patient: resource ? parsePatientId(resource) : undefined,
    roles: (attributes.get(VIHF_ATTR.role) ?? []).map(codedOf).filter((r): r is VihfRole => !!r),
    purposeOfUse: pou ? codedOf(pou)?.code : undefined,
    invisibleToLegalReps: (attributes.get(VIHF_ATTR.confidentiality) ?? []).some((v) => text(v).startsWith('INVISIBLE_REPRESENTANTS_LEGAUX')),
    signed: !!child(assertion, NS.ds, 'Signature'),
  };
}

/** The assertion element serialized alone (for signature verification). */
export function assertionXmlOf(assertion: Element): string {
  return serializeXml(assertion);
}
