/**
 * The document layer's data model: CDA header + body, XDS metadata (SubmissionSet / DocumentEntry /
 * Association), XDM archive read results. Plain data (JSON-serialisable except `Buffer` bodies).
 */

/** An HL7 v3 instance identifier (II). */
export interface InstanceId {
  root: string;
  extension?: string;
}

/** A coded value (CE/CD) as it appears in CDA or XDS. */
export interface Coded {
  code: string;
  codeSystem: string;
  displayName?: string;
}

/** The kind of a patient identifier, from its root OID. */
export type PatientIdKind = 'INS-NIR' | 'INS-NIA' | 'INS-NIR-TEST' | 'INS-NIR-DEMO' | 'LOCAL';

export interface PatientId extends InstanceId {
  kind: PatientIdKind;
}

export interface CdaPatient {
  /** Every recordTarget/patientRole/id, in document order. */
  ids: PatientId[];
  /** The first INS-kind id, when there is one. */
  ins?: { value: string; oid: string; kind: Exclude<PatientIdKind, 'LOCAL'> };
  /** Local ids (IPP): everything that is not an INS. */
  localIds: InstanceId[];
  birthFamily?: string;
  /** All birth first names (space-separated as in the birth certificate). */
  birthGivens?: string;
  firstGiven?: string;
  usedFamily?: string;
  usedGiven?: string;
  /** M / F / U (administrativeGenderCode). */
  gender?: string;
  /** YYYY-MM-DD (or YYYY-MM / YYYY when the document is less precise). */
  birthDate?: string;
  /** INSEE code of the birth place (birthplace/place/addr/county). */
  birthPlace?: string;
}

export interface CdaOrganization {
  id?: InstanceId;
  name?: string;
}

export interface CdaPerson {
  id?: InstanceId;
  prefix?: string;
  family?: string;
  given?: string;
  /** Profession/specialty (author) — e.g. G15_10/SM54 in 1.2.250.1.213.1.1.4.5. */
  code?: Coded;
  organization?: CdaOrganization;
}

export interface CdaAuthor extends CdaPerson {
  /** ISO 8601 with offset when the document has one. */
  time?: string;
}

export interface CdaServiceEvent {
  id?: InstanceId;
  code?: Coded;
  start?: string;
  stop?: string;
  /** performer/assignedEntity/representedOrganization/standardIndustryClassCode (cadre d'exercice). */
  practiceSetting?: Coded;
  performers: CdaPerson[];
}

export interface CdaRelatedDocument {
  /** RPLC, APND, XFRM. */
  typeCode: string;
  parentIds: InstanceId[];
  parentSetId?: InstanceId;
  parentVersion?: number;
}

/** Everything the app needs from a CDA R2 header. */
export interface CdaHeader {
  realmCode?: string;
  templateIds: InstanceId[];
  id: InstanceId;
  setId?: InstanceId;
  versionNumber?: number;
  typeCode: Coded;
  title: string;
  /** Creation time, ISO 8601 (offset kept when present). */
  effectiveTime?: string;
  confidentiality?: Coded;
  languageCode?: string;
  patient: CdaPatient;
  authors: CdaAuthor[];
  custodian?: CdaOrganization;
  legalAuthenticator?: CdaPerson & { time?: string };
  serviceEvents: CdaServiceEvent[];
  /** Practice setting (cadre d'exercice) of the first service event that has one. */
  practiceSetting?: Coded;
  /** componentOf/encompassingEncounter/location/healthCareFacility/code (→ healthcareFacilityTypeCode). */
  facilityType?: Coded;
  /** Encounter period, when given. */
  encounter?: { start?: string; stop?: string; code?: Coded };
  relatedDocuments: CdaRelatedDocument[];
  /** inFulfillmentOf/order/id (order placer numbers, lab prescriptions). */
  orderIds: InstanceId[];
  /** inFulfillmentOf/order/ps3-20:accessionNumber (imaging accession numbers). */
  accessionNumbers: InstanceId[];
  /** documentationOf/serviceEvent/id of imaging reports (DICOM Study Instance UIDs). */
  studyInstanceUids: string[];
}

export interface CdaAttachment {
  mediaType: string;
  data: Buffer;
  /** observationMedia ID or a synthetic one. */
  id?: string;
}

/** The document body: an embedded file (level 1) or a structured narrative (level 3). */
export type CdaBody =
  | { kind: 'pdf'; mediaType: 'application/pdf'; pdf: Buffer }
  | { kind: 'text'; mediaType: 'text/plain'; text: string }
  | { kind: 'file'; mediaType: string; data: Buffer }
  | { kind: 'narrative'; html: string; sectionCount: number; attachments: CdaAttachment[] }
  | { kind: 'empty' };

export interface ParsedCda {
  header: CdaHeader;
  body: CdaBody;
  /** The exact bytes that were parsed (hash/size in XDS metadata are computed on them). */
  bytes: Buffer;
  /** Level 1 (nonXMLBody) or 3 (structuredBody). */
  level: 1 | 3;
  /** Model template ids that tell the content model (formatCode derivation). */
  modelTemplateIds: InstanceId[];
}

/** A problem found by checkCda / readXdm: stable code + French message + where. */
export interface DocumentProblem {
  code: string;
  severity: 'error' | 'warning';
  message: string;
  /** XPath-like location or file name. */
  where?: string;
}

// ---------------------------------------------------------------- XDS metadata model

export interface XdsCode {
  code: string;
  codingScheme: string;
  displayName: string;
}

export interface XdsAuthor {
  /** XCN: 8<RPPS>^NOM^Prénom^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS */
  authorPerson?: string;
  /** XON: Nom^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^<id> */
  authorInstitution: string[];
  authorRole: string[];
  /** code^display^scheme */
  authorSpecialty: string[];
  authorTelecommunication?: string[];
}

export interface XdsDocumentEntry {
  /** urn:uuid:… (symbolic id inside the submission). */
  entryUUID: string;
  uniqueId: string;
  /** CX: <INS>^^^&<OID>&ISO^NH */
  patientId: string;
  sourcePatientId: string;
  sourcePatientInfo: string[];
  mimeType: string;
  title: string;
  comments?: string;
  creationTime: string; // YYYYMMDDhhmmss (UTC)
  serviceStartTime?: string;
  serviceStopTime?: string;
  languageCode: string;
  legalAuthenticator?: string;
  hash?: string;
  size?: number;
  /** XDM only: file name relative to the subset folder. */
  URI?: string;
  repositoryUniqueId?: string;
  /** Version of the logical document (CDA versionNumber). */
  versionNumber?: number;
  classCode: XdsCode;
  typeCode: XdsCode;
  formatCode: XdsCode;
  healthcareFacilityTypeCode: XdsCode;
  practiceSettingCode: XdsCode;
  /** 1..4 values: the CDA confidentiality + optional DMP masking codes. */
  confidentialityCodes: XdsCode[];
  eventCodes: XdsCode[];
  authors: XdsAuthor[];
  /** CXi values: <id>^^^&<OID>&ISO^<type>. */
  referenceIdList: string[];
  /** Extra slots carried as-is (e.g. the CI-SIS XDM "action" C/D, see wire-profile). */
  extraSlots: Record<string, string[]>;
  /** Present when read from a registry response. */
  availabilityStatus?: string;
  objectType?: string;
  homeCommunityId?: string;
}

export interface XdsSubmissionSet {
  entryUUID: string;
  uniqueId: string;
  sourceId: string;
  patientId: string;
  submissionTime: string;
  contentTypeCode: XdsCode;
  title?: string;
  comments?: string;
  authors: XdsAuthor[];
  intendedRecipient: string[];
  extraSlots: Record<string, string[]>;
}

export interface XdsAssociation {
  id: string;
  /** urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember, urn:ihe:iti:2007:AssociationType:RPLC, …:signs */
  type: string;
  sourceObject: string;
  targetObject: string;
  slots: Record<string, string[]>;
}

export interface XdsSubmission {
  submissionSet: XdsSubmissionSet;
  documents: XdsDocumentEntry[];
  associations: XdsAssociation[];
}
