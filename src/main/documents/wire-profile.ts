/**
 * Facts about the wire formats that the domain notes mark **unconfirmed** or that we could not check in an
 * official table, kept in ONE place so they can be corrected without a hunt.
 */
import type { XdsCode } from './types';

/** CI-SIS XDM extra metadata "action" (C = replacement, D = deletion). Unconfirmed: slot name and position
 * (we write it as a DocumentEntry slot; the reader also accepts it on the SubmissionSet and case variants). */
export const XDM_ACTION_SLOT = 'action';
export const XDM_ACTION_SLOT_ALIASES = ['action', 'Action', 'urn:asip:ci-sis:xdm:action'];

/** XDS classCode from the J07 typeCode (NOS ASS_X04). Unconfirmed beyond the rows below; default `10`. */
export const CLASS_CODE_SYSTEM = '1.2.250.1.213.1.1.4.1';
export const CLASS_CODES: Record<string, string> = {
  '10': 'Compte rendu',
  '11': 'Synthèse',
  '31': 'Imagerie médicale',
};
export const TYPE_TO_CLASS: Record<string, string> = {
  '11488-4': '10', // CR de consultation
  '11490-0': '10', // lettre de liaison de sortie
  '11502-2': '10', // CR de biologie
  '18748-4': '10', // CR d'imagerie
  '34133-9': '11', // synthèse d'épisode de soins
  '60591-5': '11', // VSM (LOINC)
  SYNTH: '11', // VSM (CI-SIS code)
  'IMG-KOS': '31', // KOS (domain notes)
};
export const DEFAULT_CLASS_CODE = '10';

/** formatCode (NOS J10) by content model template id; level-1 by media type. */
export const FORMAT_PDF: XdsCode = {
  code: 'urn:ihe:iti:xds-sd:pdf:2008',
  codingScheme: '1.3.6.1.4.1.19376.1.2.3',
  displayName: 'Document à corps non structuré en Pdf/A-1',
};
export const FORMAT_TEXT: XdsCode = {
  code: 'urn:ihe:iti:xds-sd:text:2008',
  codingScheme: '1.3.6.1.4.1.19376.1.2.3',
  displayName: 'Document à corps non structuré en texte brut',
};
export const FORMAT_KOS: XdsCode = {
  code: '1.2.840.10008.5.1.4.1.1.88.59',
  codingScheme: '1.2.840.10008.2.6.1',
  displayName: 'DICOM KOS',
};
/** Fallback for a structured model we do not know. Unconfirmed for the DMP. */
export const FORMAT_MIME_SUFFICIENT: XdsCode = {
  code: 'urn:ihe:iti:xds:2017:mimeTypeSufficient',
  codingScheme: '1.3.6.1.4.1.19376.1.2.3',
  displayName: 'Format défini par le type MIME',
};
export const FORMAT_BY_TEMPLATE: Record<string, XdsCode> = {
  '1.2.250.1.213.1.1.1.13': { code: 'urn:asip:ci-sis:vsm:2012', codingScheme: '1.2.250.1.213.1.1.4.2.282', displayName: 'Volet de Synthèse Médicale' },
  '1.2.250.1.213.1.1.1.45': {
    code: 'urn:ihe:rad:CDA:ImagingReportStructuredHeadings:2013',
    codingScheme: '1.3.6.1.4.1.19376.1.2.3',
    displayName: "CR d'imagerie médicale",
  },
  // Unconfirmed (lab report, lettre de liaison):
  '1.2.250.1.213.1.1.1.55': { code: 'urn:oid:1.3.6.1.4.1.19376.1.3.10', codingScheme: '1.3.6.1.4.1.19376.1.2.3', displayName: "CR d'examens biologiques" },
  '1.2.250.1.213.1.1.1.29': { code: 'urn:asip:ci-sis:ldl-ses:2017', codingScheme: '1.2.250.1.213.1.1.4.2.282', displayName: 'Lettre de liaison à la sortie' },
};

/** Anatomic region scheme: `1.2.250.1.213.1.1.5.695` vs `1.2.250.1.213.2.5` seen (unconfirmed). */
export const ANATOMIC_REGION_SCHEME = '1.2.250.1.213.1.1.5.695';
export const MODALITY_SCHEME = '1.2.250.1.213.1.1.5.618';

/** Masking codes (J08 / TRE_A07). */
export const MASKING_SYSTEM = '1.2.250.1.213.1.1.4.13';

/** XDS repository uniqueId default when none is configured (XDM does not need one). */
export const DEFAULT_LANGUAGE = 'fr-FR';
