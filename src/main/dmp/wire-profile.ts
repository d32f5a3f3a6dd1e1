/**
 * The DMP wire profile: every detail of the DMP web services that the domain notes mark as
 * **unconfirmed** (the official DSFT was not available) lives here and only here, so that it can be
 * corrected in one place once checked against the real service (or its test platform).
 *
 * Both the client and the test server read these values: a change here changes both sides, which is
 * exactly what we want (the test server is faithful to what we believe; the belief lives here).
 */

export const WIRE_PROFILE = {
  /** Signature algorithms for the VIHF (XMLDSig) and the submission-set XAdES. Unconfirmed (the PoC uses SHA-1). */
  signature: {
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
    canonicalization: 'http://www.w3.org/2001/10/xml-exc-c14n#',
    /** Algorithms the test server accepts (the SHA-1 ones because the real service is known to accept them). */
    acceptedSignatureAlgorithms: [
      'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    ],
    acceptedDigestAlgorithms: ['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2000/09/xmldsig#sha1'],
  },

  /**
   * XAdES manifest (`#IHEManifest`): one reference per document (`urn:oid:<document uniqueId>`, digest of the
   * document bytes) and one for the submission set (`urn:oid:<set uniqueId>`). What the set reference's digest
   * covers is unconfirmed: we digest the UTF-8 bytes of the set uniqueId.
   */
  xades: {
    manifestId: 'IHEManifest',
    manifestType: 'http://www.w3.org/2000/09/xmldsig#Manifest',
    signedPropertiesType: 'http://uri.etsi.org/01903#SignedProperties',
    namespace: 'http://uri.etsi.org/01903/v1.3.2#',
    setDigestInput: (setUniqueId: string): Buffer => Buffer.from(setUniqueId, 'utf8'),
  },

  /**
   * TD0.2 response (PRPA_IN201308UV02) encoding of the DMP status and authorization: unconfirmed. We carry them
   * as `subjectOf/observation` elements with a code and a value code (code system below), one per fact.
   */
  td02: {
    observationCodeSystem: '1.2.250.1.213.1.1.4.11',
    codes: {
      dmpStatus: 'DMP_STATUS',
      authorization: 'AUTORISATION',
      treatingPhysician: 'MEDECIN_TRAITANT',
      patientWebAccess: 'ACCES_WEB_PATIENT',
      closureDate: 'DATE_FERMETURE',
      closureReason: 'MOTIF_FERMETURE',
    },
  },

  /** TD0.3 body. The namespace and element names come from the DRIMbox PoC; `dateFin` is unconfirmed. */
  td03: {
    namespace: 'urn:si-dmp-habilitations',
    actionAdd: 'AJOUT',
    actionRemove: 'SUPPRESSION',
  },

  /**
   * TD3.3 metadata update (mask/unmask, visibility): new DocumentEntry version with the same logical id and a
   * HasMember association carrying this slot (unconfirmed for the DMP specifically).
   */
  td33: {
    previousVersionSlot: 'PreviousVersion',
  },

  /** Business rules of the test server whose exact behaviour on the real DMP is unconfirmed. */
  rules: {
    /** Once visible to the patient, a document cannot be made invisible to them again. */
    invisiblePatientIrreversible: true,
    /** "Bris de glace" (emergency) access does not need an authorization. */
    breakGlassBypassesAuthorization: true,
    /** Treating physicians may mask/unmask documents they did not author. */
    treatingPhysicianMayMask: true,
  },

  /** typeCode of the signature DocumentEntry (IHE DSG value; unconfirmed for the DMP). */
  signatureEntryTypeCode: { code: 'E1762', scheme: 'ASTM', display: 'Full Document' },

  /** Default authorization lifetime granted by TD0.3 on the test server (unconfirmed on the real one). */
  authorizationDays: 365 * 3,

  /** Repository unique id of the test server (the real value is configuration). */
  testRepositoryUniqueId: '1.2.250.1.213.1.4.12.99.1',
} as const;

/** The DMP status strings of TD0.2, as we expose them. */
export const DMP_STATUSES = ['ACTIF', 'FERME', 'INEXISTANT'] as const;
export type DmpStatus = (typeof DMP_STATUSES)[number];
export const AUTHORIZATIONS = ['VALIDE', 'EXPIRE', 'NON_EXISTE', 'INTERDIT'] as const;
export type Authorization = (typeof AUTHORIZATIONS)[number];
