/**
 * MSSanté wire details in ONE place. Values marked **unconfirmed** come from implementers' summaries of
 * Référentiel #2 / the PFI volet, not from the normative text: correct them here, nowhere else.
 */

/** Subject prefix of a document mail (CI-SIS volet Echange, IHE XDM). */
export const XDM_SUBJECT_PREFIX = 'XDM/1.0/DDM';
/** Name of the archive attachment. */
export const XDM_ATTACHMENT_NAME = 'IHE_XDM.zip';

/** SMTP headers used by the ANS for statistics (Référentiel #2 §3.8; Ségur SC.MSS/CONF.14–16, 21). */
export const HEADER_CODECDA = 'X-MSS-CODECDA';
export const HEADER_INS = 'X-MSS-INS';
export const HEADER_NIL = 'X-MSS-NIL';
export const HEADER_MES = 'X-MSS-MES';
/** Value of X-MSS-MES when the professional closes the channel with the patient. */
export const MES_CLOSE_VALUE = 'FIN';

/** Patient mailboxes of Mon espace santé: `<INS>@patient.mssante.fr` (built only from a qualified INS). */
export const PATIENT_MAIL_DOMAIN = 'patient.mssante.fr';

/** IMAP keyword set on a message once it has been processed (exactly-once across installs). */
export const PROCESSED_KEYWORD = '$LpsTraite';

/** MDN subject prefix on integration failure: `[KO Intégration système !][<code>] <original subject>`. */
export function errorMdnSubject(code: string, originalSubject: string): string {
  return `[KO Intégration système !][${code}] ${originalSubject}`;
}

/** Application error codes of the PFI volet (**unconfirmed** labels, codes as summarised by implementers). */
export const MDN_ERRORS = {
  '900': 'Version du document incorrecte',
  '901': "L'auteur n'est pas autorisé à remplacer ou supprimer le document",
  '902': 'Patient inconnu',
  '903': 'Absence d’INS dans le document',
  '904': "L'INS ne correspond pas à celle connue pour le patient",
  '905': 'INS incomplète',
  '906': 'Autre erreur',
} as const;
export type MdnErrorCode = keyof typeof MDN_ERRORS;

/** Disposition field values (RFC 8098 + the PFI error extension, emitted exactly like this). */
export const DISPOSITION_PROCESSED = 'automatic-action/MDN-sent-automatically; processed';
export function dispositionError(code: MdnErrorCode): string {
  return `automatic-action/MDN-sent-automatically; processed/Error: ${code}^${MDN_ERRORS[code]}`;
}
export const DISPOSITION_DISPLAYED_MANUAL = 'manual-action/MDN-sent-manually; displayed';

/** INS OIDs (glossary): NIR, NIA, test NIR, demo NIR. */
export const INS_OIDS = ['1.2.250.1.213.1.4.8', '1.2.250.1.213.1.4.9', '1.2.250.1.213.1.4.10', '1.2.250.1.213.1.4.11'] as const;

/**
 * MSSanté operator domains a token may be sent to after discovery (the public white list is larger and
 * configurable: setting `mssante.allowedDomains`). A host qualifies when it is one of these domains or a
 * sub-domain of one.
 */
export const DEFAULT_MSSANTE_DOMAINS = ['mssante.fr'];

/** Limits for received mails (hostile input). */
export const RECEIVE_LIMITS = {
  /** Whole message size above which it is not downloaded but rejected (906). */
  maxMessageBytes: 20 * 1024 * 1024,
  maxXdmBytes: 15 * 1024 * 1024,
} as const;
