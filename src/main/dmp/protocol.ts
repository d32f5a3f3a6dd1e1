/**
 * Confirmed constants of the DMP web services and of the standards they rest on (SOAP 1.2, WS-Addressing,
 * WS-Security, SAML 2.0, ebRS 3.0 / XDS.b, HL7v3). Unconfirmed details live in `wire-profile.ts`.
 */

export const NS = {
  soap: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://www.w3.org/2005/08/addressing',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  saml: 'urn:oasis:names:tc:SAML:2.0:assertion',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xdsb: 'urn:ihe:iti:xds-b:2007',
  lcm: 'urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0',
  rim: 'urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0',
  rs: 'urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0',
  query: 'urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0',
  xop: 'http://www.w3.org/2004/08/xop/include',
  hl7: 'urn:hl7-org:v3',
  xades: 'http://uri.etsi.org/01903/v1.3.2#',
} as const;

/** The four DMP endpoints under the base URL (`…/si-dmp-server/v2/services/`). */
export const SERVICES = ['patients', 'habilitations', 'registry', 'repository'] as const;
export type DmpService = (typeof SERVICES)[number];

export const ACTIONS = {
  td02: 'urn:hl7-org:v3:PRPA_IN201307UV02',
  td03: 'urn:si-dmp-habilitations:HabilitationsEndPoint:setAuthorization',
  td21: 'urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b',
  td31: 'urn:ihe:iti:2007:RegistryStoredQuery',
  td32: 'urn:ihe:iti:2007:RetrieveDocumentSet',
  td33: 'urn:ihe:iti:2010:UpdateDocumentSet',
} as const;
export type DmpAction = (typeof ACTIONS)[keyof typeof ACTIONS];

/** Which service answers which action. */
export const SERVICE_OF: Record<DmpAction, DmpService> = {
  [ACTIONS.td02]: 'patients',
  [ACTIONS.td03]: 'habilitations',
  [ACTIONS.td21]: 'repository',
  [ACTIONS.td31]: 'registry',
  [ACTIONS.td32]: 'repository',
  [ACTIONS.td33]: 'registry',
};

/** WS-Addressing response actions (request action + `Response`). */
export function responseAction(action: string): string {
  if (action === ACTIONS.td02) return 'urn:hl7-org:v3:PRPA_IN201308UV02';
  return `${action}Response`;
}

export const STORED_QUERY = {
  findDocuments: 'urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d',
  getDocuments: 'urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4',
  findDocumentsByReferenceId: 'urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492',
} as const;

export const STATUS = {
  approved: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved',
  deprecated: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Deprecated',
  deleted: 'urn:asip:ci-sis:2010:StatusType:Deleted',
  archived: 'urn:asip:ci-sis:2010:StatusType:Archived',
} as const;
export type StatusName = keyof typeof STATUS;
export function statusName(urn: string): StatusName | undefined {
  return (Object.keys(STATUS) as StatusName[]).find((k) => STATUS[k] === urn);
}

export const REGISTRY_RESPONSE = {
  success: 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success',
  failure: 'urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure',
  partial: 'urn:ihe:iti:2007:ResponseStatusType:PartialSuccess',
} as const;

export const ERROR_SEVERITY = 'urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error';

/** XDS.b UUIDs of ebRIM classification schemes and object types. */
export const XDS = {
  documentEntryType: 'urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1',
  submissionSetClass: 'urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd',
  de: {
    author: 'urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d',
    classCode: 'urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a',
    confidentialityCode: 'urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f',
    eventCodeList: 'urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4',
    formatCode: 'urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d',
    healthcareFacilityTypeCode: 'urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1',
    practiceSettingCode: 'urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead',
    typeCode: 'urn:uuid:f0306f51-975f-434e-a61c-c59651d33983',
    patientId: 'urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427',
    uniqueId: 'urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab',
  },
  ss: {
    author: 'urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d',
    contentTypeCode: 'urn:uuid:aa543740-bdda-424e-8c96-df4873be8500',
    patientId: 'urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446',
    sourceId: 'urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832',
    uniqueId: 'urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8',
  },
} as const;

export const ASSOCIATION = {
  hasMember: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember',
  rplc: 'urn:ihe:iti:2007:AssociationType:RPLC',
  signs: 'urn:ihe:iti:2007:AssociationType:signs',
  updateAvailabilityStatus: 'urn:ihe:iti:2010:AssociationType:UpdateAvailabilityStatus',
} as const;

export const OID = {
  insTestNir: '1.2.250.1.213.1.4.10',
  insNir: '1.2.250.1.213.1.4.8',
  insNia: '1.2.250.1.213.1.4.9',
  insDemo: '1.2.250.1.213.1.4.11',
  idnps: '1.2.250.1.71.4.2.1',
  idnst: '1.2.250.1.71.4.2.2',
  masking: '1.2.250.1.213.1.1.4.13',
  confidentiality: '2.16.840.1.113883.5.25',
  dmpReceiver: '1.2.250.1.213.4.1.1.1',
  profession: '1.2.250.1.71.1.2.7',
  specialty: '1.2.250.1.71.4.2.5',
  sector: '1.2.250.1.71.4.2.4',
  purposeOfUse: '1.2.250.1.213.1.1.4.248',
} as const;

export const MASKING = ['MASQUE_PS', 'INVISIBLE_PATIENT', 'INVISIBLE_REPRESENTANTS_LEGAUX'] as const;
export type MaskingCode = (typeof MASKING)[number];

/** The signature DocumentEntry of a DMP submission (dmp.md, TD2.1). */
export const SIGNATURE_ENTRY = {
  mimeType: 'text/xml',
  classCode: { code: 'urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1', scheme: 'URN', display: 'Digital Signature' },
  formatCode: { code: 'http://www.w3.org/2000/09/xmldsig#', scheme: 'URN', display: 'Default Signature Style' },
  eventCode: { code: '1.2.840.10065.1.12.1.14', scheme: '1.2.840.10065.1.12', display: 'Source' },
  confidentiality: ['N', 'MASQUE_PS', 'INVISIBLE_PATIENT'] as const,
} as const;

/** `<INS>^^^&<OID>&ISO^NH`, the XDS patient id. */
export function patientIdOf(ins: string, insOid: string): string {
  return `${ins}^^^&${insOid}&ISO^NH`;
}

export function parsePatientId(pid: string): { ins: string; insOid: string } | undefined {
  const m = /^([^^]+)\^\^\^&([0-9.]+)&ISO(\^NH)?$/.exec(pid.trim());
  return m ? { ins: m[1]!, insOid: m[2]! } : undefined;
}
