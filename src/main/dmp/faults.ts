import { AppError } from '../core/errors';

/**
 * The DMP error catalogue: every error the test server raises and the client understands, with the French
 * message shown to the user. Security/transport errors travel as SOAP 1.2 faults (Subcode `dmp:<code>`);
 * business errors of the XDS transactions travel as `rs:RegistryError` (errorCode = code, codeContext = the
 * French message), the way XDS registries report them. Unknown codes from a real service still reach the user
 * with the service's own text.
 */
export const DMP_ERRORS = {
  DMP_VIHF_INVALID: "Le jeton d'identification (VIHF) envoyé au DMP est invalide.",
  DMP_VIHF_EXPIRED:
    "Le jeton d'identification (VIHF) a expiré ou n'est pas encore valide : vérifiez que l'horloge de ce poste est à l'heure.",
  DMP_VIHF_SIGNATURE: "La signature du jeton d'identification (VIHF) est absente ou invalide.",
  DMP_AUTH_STRUCTURE: "Erreur d'authentification de la personne morale : l'identifiant de structure ne correspond pas au certificat.",
  DMP_CERT_INVALID: "Le certificat présenté au DMP est refusé (expiré, pas encore valide ou émis par une autorité non reconnue).",
  DMP_SECURITY: "La requête n'a pas passé les contrôles de sécurité du DMP.",
  DMP_PATIENT_UNKNOWN: "Ce patient n'a pas de DMP : aucun dossier n'existe pour cet INS.",
  DMP_CLOSED: 'Le DMP de ce patient est fermé : aucun document ne peut y être déposé, consulté ni modifié.',
  DMP_NO_AUTHORIZATION:
    "Vous n'avez pas d'autorisation d'accès au DMP de ce patient : recueillez son consentement puis enregistrez l'autorisation.",
  DMP_AUTHORIZATION_EXPIRED:
    "Votre autorisation d'accès au DMP de ce patient a expiré : recueillez à nouveau son consentement puis enregistrez l'autorisation.",
  DMP_AUTHORIZATION_FORBIDDEN: "Le patient a interdit votre accès à son DMP : aucune action n'est possible sur ce dossier.",
  DMP_NOT_AUTHOR: "Seul un auteur du document peut le déposer, le remplacer ou le supprimer (aucun auteur ne correspond à l'utilisateur).",
  DMP_METADATA_INVALID: 'Les métadonnées du document sont invalides : le DMP les a refusées.',
  DMP_SCHEMA_INVALID: 'La requête envoyée au DMP ne respecte pas le format attendu (schéma XDS/ebRS).',
  DMP_SIGNATURE_INVALID: 'La signature du lot de soumission (XAdES) est absente, invalide ou ne correspond pas aux documents envoyés.',
  DMP_MTOM_REQUIRED: "L'envoi de documents au DMP doit utiliser le format MTOM/XOP : la requête a été refusée.",
  DMP_HASH_MISMATCH: "L'empreinte ou la taille d'un document ne correspond pas à ses métadonnées.",
  DMP_PATIENT_MISMATCH: "Le document ne concerne pas le patient du DMP visé (INS différent).",
  DMP_DOCUMENT_UNKNOWN: 'Document introuvable dans le DMP de ce patient.',
  DMP_DUPLICATE_UNIQUEID: 'Ce document a déjà été déposé dans le DMP (son identifiant unique est déjà utilisé).',
  DMP_STATUS_TRANSITION: "Ce changement d'état n'est pas permis pour ce document dans son état actuel.",
  DMP_REPLACED_NOT_CURRENT: "Le document à remplacer n'est plus la version en vigueur : rechargez la liste des documents.",
  DMP_QUERY_INVALID: 'La recherche envoyée au DMP est invalide.',
  DMP_ACTION_UNKNOWN: "Cette opération n'est pas proposée par ce service du DMP.",
  DMP_INTERNAL: 'Le DMP a rencontré une erreur interne : réessayez plus tard.',
} as const;
export type DmpErrorCode = keyof typeof DMP_ERRORS;

/** Errors raised by the client itself (transport, response shape, ambiguity). */
export const CLIENT_ERRORS = {
  DMP_TIMEOUT: "Le DMP n'a pas répondu à temps. Aucune action n'a été répétée automatiquement.",
  DMP_NETWORK: 'Le DMP est injoignable : vérifiez la connexion réseau puis réessayez.',
  DMP_TLS: "La connexion sécurisée au DMP a échoué (certificat refusé, expiré ou non reconnu).",
  DMP_HTTP: 'Le DMP a renvoyé une réponse inattendue.',
  DMP_BAD_RESPONSE: 'La réponse du DMP est illisible ou incomplète.',
  DMP_AMBIGUOUS:
    "Le dépôt n'a pas pu être confirmé (pas de réponse du DMP) et sa présence n'a pas pu être vérifiée : ne le renvoyez pas avant d'avoir vérifié le DMP.",
  DMP_NOT_CONFIGURED: "L'accès au DMP n'est pas configuré : démarrez le bac à sable ou renseignez la configuration de production.",
  DMP_REQUEST_INVALID: "La requête préparée pour le DMP n'est pas conforme au schéma : elle n'a pas été envoyée.",
} as const;

/** A DMP error: carries the service's code, its French text and the technical detail. */
export class DmpError extends AppError {
  constructor(
    code: string,
    userMessage: string,
    detail?: string,
    readonly fault?: { kind: 'soap' | 'registry'; serviceCode: string; serviceText?: string },
  ) {
    super(code, userMessage, detail);
    this.name = 'DmpError';
  }
}

export function dmpError(code: DmpErrorCode | keyof typeof CLIENT_ERRORS, detail?: string): DmpError {
  const msg = (DMP_ERRORS as Record<string, string>)[code] ?? (CLIENT_ERRORS as Record<string, string>)[code] ?? code;
  return new DmpError(code, msg, detail);
}

/** Maps a code received from a DMP (our catalogue, or an XDS standard code) to the user-facing error. */
export function fromServiceError(kind: 'soap' | 'registry', serviceCode: string, serviceText: string | undefined, detail: string | undefined): DmpError {
  const code = serviceCode.replace(/^[A-Za-z]+:/, '');
  const known = (DMP_ERRORS as Record<string, string>)[code];
  const xds: Record<string, string> = {
    XDSUnknownPatientId: DMP_ERRORS.DMP_PATIENT_UNKNOWN,
    XDSPatientIdDoesNotMatch: DMP_ERRORS.DMP_PATIENT_MISMATCH,
    XDSDocumentUniqueIdError: DMP_ERRORS.DMP_DUPLICATE_UNIQUEID,
    XDSNonIdenticalHash: DMP_ERRORS.DMP_HASH_MISMATCH,
    XDSNonIdenticalSize: DMP_ERRORS.DMP_HASH_MISMATCH,
    XDSStoredQueryParamNumber: DMP_ERRORS.DMP_QUERY_INVALID,
    XDSRegistryMetadataError: DMP_ERRORS.DMP_METADATA_INVALID,
  };
  const message = known ?? xds[code] ?? (serviceText ? `Le DMP a refusé la demande : ${serviceText}` : 'Le DMP a refusé la demande.');
  const technical = [`${kind === 'soap' ? 'SOAP fault' : 'RegistryError'} ${serviceCode}`, serviceText, detail].filter(Boolean).join(' — ');
  return new DmpError(known ? code : `DMP_SERVICE_ERROR`, message, technical, { kind, serviceCode, serviceText });
}
