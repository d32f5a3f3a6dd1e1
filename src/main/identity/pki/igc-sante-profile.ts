/**
 * The "wire profile" of the identity certificates: how the IGC Santé shapes its CA names and its CPS / ORG
 * subjects, and the sandbox's test structure and practitioner. The exact subject layout of production CPS
 * certificates is **unconfirmed** here (no real card was available): the parser in `card/holder.ts` accepts the
 * variants listed there; correct this one file if a real card differs.
 */

export type DnField = [key: string, value: string];

export type CertKind = 'cps-auth' | 'cps-sign' | 'org-auth' | 'org-sign' | 'server';

export const CA_NAMES = {
  root: 'TEST AC RACINE IGC-SANTE',
  personnes: 'TEST AC IGC-SANTE ELEMENTAIRE PERSONNES',
  organisations: 'TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS',
} as const;

/**
 * National identifier type prefixes (the digit before the id in `SubjectNameID`, in XDS/CDA author ids, and
 * in the CPS certificate): 8 = RPPS, 0 = ADELI (glossary). Structure ids: 3 = FINESS, 4 = SIREN, 5 = SIRET.
 */
export const NATIONAL_ID_TYPES: Record<string, string> = {
  '0': 'ADELI',
  '3': 'FINESS',
  '4': 'SIREN',
  '5': 'SIRET',
  '8': 'RPPS',
};

/** Profession codes (TRE_G15 / CPS "code profession") the sandbox and the parser know by label. */
export const PROFESSION_LABELS: Record<string, string> = {
  '10': 'Médecin',
  '21': 'Pharmacien',
  '40': 'Chirurgien-dentiste',
  '50': 'Sage-femme',
  '60': 'Infirmier',
  '70': 'Masseur-kinésithérapeute',
};

export interface HolderFacts {
  nationalId: string;
  lastName: string;
  firstName: string;
  professionCode: string;
  profession: string;
  specialtyCode?: string;
  email?: string;
}

/** The test structure (a medical practice) of the sandbox. */
export const SANDBOX_STRUCTURE = {
  /** `3` + FINESS (test value): what VIHF `Identifiant_Structure` and PSC `ancienIdentifiantDeLaStructure` carry. */
  structureId: '3990000001',
  finess: '990000001',
  name: 'CABINET MEDICAL DU BAC A SABLE',
  /** Sector of activity (PSC `codeSecteurDactivite`, VIHF `Secteur_Activite`): SA07 = cabinet individuel. */
  sectorCode: 'SA07',
  orgSubject(use: 'auth' | 'sign'): DnField[] {
    return [
      ['C', 'FR'],
      ['O', this.name],
      ['OU', this.structureId],
      ['CN', `${use === 'auth' ? 'AUTH' : 'SIGN'}.${this.structureId}`],
    ];
  },
};

/** The sandbox practitioner: holder of the test CPS and the PSC test account (same national id). */
export const SANDBOX_PRACTITIONER: HolderFacts = {
  nationalId: '899700012345',
  lastName: 'DURAND',
  firstName: 'Claire',
  professionCode: '10',
  profession: 'Médecin',
  specialtyCode: 'SM54',
};

/** CPS-like certificate subject: national id in CN (and serialNumber), names in SN/GN, profession in title. */
export function cpsSubject(holder: HolderFacts, structure: { name: string; structureId: string }, use: 'auth' | 'sign'): DnField[] {
  return [
    ['C', 'FR'],
    ['O', structure.name],
    ['OU', structure.structureId],
    ['title', `${holder.profession} (${holder.professionCode})`],
    ['SN', holder.lastName],
    ['GN', holder.firstName],
    ['serialNumber', `${holder.nationalId}${use === 'sign' ? '/S' : '/A'}`],
    ['CN', holder.nationalId],
  ];
}
