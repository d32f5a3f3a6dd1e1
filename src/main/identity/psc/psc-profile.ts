import { SANDBOX_PRACTITIONER, SANDBOX_STRUCTURE, type HolderFacts } from '../pki/igc-sante-profile';

/**
 * Pro Santé Connect "wire profile": what the real service (Keycloak realm `esante-wallet`) exposes, and how
 * the sandbox provider mimics it. Facts from identity.md; correct here if the ANS changes them.
 */
export const PSC = {
  realmPath: '/auth/realms/esante-wallet',
  /** The BAS (test) environment's issuer; production is configured in the settings. */
  basIssuer: 'https://auth.bas.psc.esante.gouv.fr/auth/realms/esante-wallet',
  scopes: ['openid', 'scope_all'],
  acrValues: 'eidas1',
  /** Keycloak's OpenID Connect endpoint paths under the realm. */
  routes: {
    authorization: '/protocol/openid-connect/auth',
    token: '/protocol/openid-connect/token',
    userinfo: '/protocol/openid-connect/userinfo',
    introspection: '/protocol/openid-connect/token/introspect',
    end_session: '/protocol/openid-connect/logout',
    revocation: '/protocol/openid-connect/revoke',
    jwks: '/protocol/openid-connect/certs',
  },
  /** Claims released with scope_all. */
  claims: ['SubjectNameID', 'SubjectRefPro', 'SubjectOrganization', 'SubjectRole', 'preferred_username', 'given_name', 'family_name', 'email', 'otherIds'],
} as const;

export interface PscPractitioner extends HolderFacts {
  /** What the practitioner types on the sandbox login page (the national id). */
  login: string;
  /** Sandbox login page password (stands for the e-CPS / CPS authentication of the real service). */
  password: string;
  email: string;
  structure: { structureId: string; finess: string; name: string; sectorCode: string };
  /** Further places of practice (PSC lists one activity per place): the app asks which one to work for. */
  otherStructures?: { structureId: string; finess: string; name: string; sectorCode: string }[];
}

export function sandboxPractitioner(password: string): PscPractitioner {
  return {
    ...SANDBOX_PRACTITIONER,
    login: SANDBOX_PRACTITIONER.nationalId,
    password,
    email: 'claire.durand@sandbox.mssante.fr',
    structure: { structureId: SANDBOX_STRUCTURE.structureId, finess: SANDBOX_STRUCTURE.finess, name: SANDBOX_STRUCTURE.name, sectorCode: SANDBOX_STRUCTURE.sectorCode },
    // A second place of practice (test values), so the choice of activity shows in the sandbox.
    otherStructures: [{ structureId: '3990000002', finess: '990000002', name: 'CENTRE DE SANTE DU BAC A SABLE', sectorCode: 'SA05' }],
  };
}

/** The UserInfo document PSC returns for a practitioner (shape of `SubjectRefPro`: exercices[].activities[]). */
export function userInfoClaims(p: PscPractitioner): Record<string, unknown> {
  return {
    sub: p.nationalId,
    SubjectNameID: p.nationalId,
    preferred_username: p.nationalId,
    given_name: p.firstName,
    family_name: p.lastName,
    email: p.email,
    SubjectOrganization: p.structure.name,
    SubjectRole: [`${p.professionCode}^1.2.250.1.213.1.1.5.5`],
    otherIds: [{ identifiant: p.nationalId, origine: 'RPPS', qualite: 1 }],
    SubjectRefPro: {
      codeCivilite: 'MME',
      exercices: [
        {
          codeProfession: p.professionCode,
          codeCategorieProfessionnelle: 'C',
          codeCiviliteDexercice: 'DR',
          nomDexercice: p.lastName,
          prenomDexercice: p.firstName,
          codeTypeSavoirFaire: 'S',
          codeSavoirFaire: p.specialtyCode ?? '',
          activities: [p.structure, ...(p.otherStructures ?? [])].map((st, i) => ({
            codeModeExercice: i === 0 ? 'L' : 'S',
            codeSecteurDactivite: st.sectorCode,
            codeSectionPharmacien: '',
            codeRole: '',
            numeroSiretSite: '',
            numeroSirenSite: '',
            numeroFinessSite: st.finess,
            numeroFinessetablissementJuridique: '',
            identifiantTechniqueDeLaStructure: `F${st.finess}`,
            raisonSocialeSite: st.name,
            enseigneCommercialeSite: '',
            ancienIdentifiantDeLaStructure: st.structureId,
          })),
        },
      ],
    },
  };
}
