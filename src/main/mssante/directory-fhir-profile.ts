/**
 * Wire facts of the ANS "Annuaire Santé" FHIR API (FHIR R4), in ONE place. Sources: the ANS API documentation
 * (ansforge.github.io/annuaire-sante-fhir-documentation, API v2) and the FHIR implementation guide
 * "Annuaire Santé" 1.1.0 (interop.esante.gouv.fr/ig/fhir/annuaire: profiles as-dp-*, the CapabilityStatement
 * of the v2 server, the search parameter and extension definitions, and its BAL MSS examples).
 * Values marked **unconfirmed** are inferred from examples or the IG draft, not observed on the live API:
 * correct them here, nowhere else.
 */

/** Production base URL of the API v2 (documented; v1 is deprecated). */
export const ANNUAIRE_FHIR_DEFAULT_BASE = 'https://gateway.api.esante.gouv.fr/fhir/v2';

/** Header carrying the API key obtained on portal.api.esante.gouv.fr (documented). */
export const API_KEY_HEADER = 'ESANTE-API-KEY';

/** Media type of FHIR JSON (the server's CapabilityStatement lists `application/fhir+json` and `json`). */
export const FHIR_JSON = 'application/fhir+json';

/** Practitioner identifiers (IG slices `idNatPs`, `rpps`). */
export const IDNPS_SYSTEM = 'urn:oid:1.2.250.1.71.4.2.1';
export const RPPS_SYSTEM = 'https://rpps.esante.gouv.fr';

/** MSSanté mailbox metadata extension on a `telecom` (Practitioner, PractitionerRole, Organization). */
export const MAILBOX_METADATA_URL = 'https://interop.esante.gouv.fr/ig/fhir/annuaire/StructureDefinition/as-ext-mailbox-mss-metadata';
/** Sub-extensions of the metadata: `type` (BAL type PER/ORG/APP), `service`, `description`, `listeRouge`. */
export const MAILBOX_METADATA = { type: 'type', service: 'service', description: 'description', redList: 'listeRouge' } as const;
/**
 * Code system of the BAL type: the IG examples use TRE_R257-TypeBAL, the extension definition binds
 * JDV_J139-TypeBAL-RASS. **Unconfirmed** which one the live API emits: the mapping reads the code whatever the
 * system.
 */
export const BAL_TYPE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R257-TypeBAL/FHIR/TRE-R257-TypeBAL';
/**
 * FR Core e-mail type extension (value MSSANTE from TRE_R256-TypeMessagerie). **Unconfirmed** URL: a telecom is
 * also recognised as an MSSanté mailbox by the metadata extension or by an `mssante.fr` domain.
 */
export const EMAIL_TYPE_URL = 'https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-email-type';
export const EMAIL_TYPE_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R256-TypeMessagerie/FHIR/TRE-R256-TypeMessagerie';
export const EMAIL_TYPE_MSSANTE = 'MSSANTE';

/** Profession (TRE_G15) and savoir-faire (TRE_R38) code systems used in `Practitioner.qualification.code`. */
export const PROFESSION_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante';
export const SPECIALTY_SYSTEM = 'https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale';

/**
 * Search parameters of the v2 server we use (CapabilityStatement AsServerDPCapabilityStatementv2):
 * - Practitioner: `family`, `given` (nom/prénom d'exercice; string: starts-with, modifiers contains/exact),
 *   `identifier` (token), `qualification-code` (token on qualification.code), `mailbox-mss` (string on
 *   telecom.value), `_id`, `_count`, `_revinclude=PractitionerRole:practitioner`;
 * - Organization: `address-city`, `name`, `mailbox-mss`, `_id`, `_revinclude=PractitionerRole:organization`;
 * - PractitionerRole: `practitioner`, `organization`, `_include=PractitionerRole:organization|practitioner`.
 * The Practitioner of the public data (as-dp-practitioner) carries no address: the city of a practitioner is
 * that of the Organization of its PractitionerRole (situation d'exercice).
 * **Unconfirmed**: how the live server pages (we follow the Bundle's `next` link, whatever its form), whether
 * `_revinclude`d roles are counted in `total` (we count `search.mode = match` entries only).
 */
export const SEARCH = {
  practitioner: { family: 'family', given: 'given', identifier: 'identifier', profession: 'qualification-code', mailbox: 'mailbox-mss', revRoles: 'PractitionerRole:practitioner' },
  organization: { city: 'address-city', name: 'name', mailbox: 'mailbox-mss', revRoles: 'PractitionerRole:organization' },
} as const;

/** Page size asked for (`_count`) and the caps of one online search (pages followed, resources read). */
export const ONLINE_LIMITS = {
  pageSize: 50,
  maxPages: 4,
  /** Time allowed for one HTTP exchange (connect + answer). */
  requestTimeoutMs: 8_000,
  /** Time allowed for the whole online part of a search (all requests). */
  searchTimeoutMs: 15_000,
  /** Largest answer read (a searchset page of 50 practitioners with their roles is ~100 KB). */
  maxResponseBytes: 8 * 1024 * 1024,
} as const;
