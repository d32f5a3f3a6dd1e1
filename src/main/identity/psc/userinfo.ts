import { z } from 'zod';
import { AppError } from '../../core/errors';
import { NATIONAL_ID_TYPES } from '../pki/igc-sante-profile';

/** What the app keeps of the PSC UserInfo: the practitioner, their exercices and activities (structures). */
export interface PscIdentity {
  /** `SubjectNameID`: national id with its type prefix (8 + RPPS). */
  nationalId: string;
  idType?: string;
  idTypeLabel?: string;
  lastName?: string;
  firstName?: string;
  email?: string;
  exercices: {
    professionCode?: string;
    categoryCode?: string;
    specialtyCode?: string;
    specialtyType?: string;
    lastName?: string;
    firstName?: string;
    activities: {
      /** `ancienIdentifiantDeLaStructure` → VIHF `Identifiant_Structure`. */
      structureId?: string;
      /** `codeSecteurDactivite` → VIHF `Secteur_Activite`. */
      sectorCode?: string;
      structureName?: string;
      finess?: string;
      siret?: string;
      practiceMode?: string;
    }[];
  }[];
}

const str = z.string().optional().catch(undefined);
const Activity = z
  .object({
    ancienIdentifiantDeLaStructure: str,
    codeSecteurDactivite: str,
    raisonSocialeSite: str,
    numeroFinessSite: str,
    numeroSiretSite: str,
    codeModeExercice: str,
  })
  .loose();
const Exercice = z
  .object({
    codeProfession: str,
    codeCategorieProfessionnelle: str,
    codeSavoirFaire: str,
    codeTypeSavoirFaire: str,
    nomDexercice: str,
    prenomDexercice: str,
    activities: z.array(Activity).optional().catch([]),
  })
  .loose();
const UserInfo = z
  .object({
    SubjectNameID: z.string().min(2),
    given_name: str,
    family_name: str,
    email: str,
    SubjectRefPro: z.object({ exercices: z.array(Exercice).optional().catch([]) }).loose().optional().catch(undefined),
  })
  .loose();

const blank = (s: string | undefined) => (s && s.trim() ? s.trim() : undefined);

export function parsePscUserInfo(claims: unknown): PscIdentity {
  const parsed = UserInfo.safeParse(claims);
  if (!parsed.success) {
    throw new AppError('PSC_USERINFO_INVALID', "Pro Santé Connect n'a pas renvoyé l'identité du professionnel (SubjectNameID).", parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const u = parsed.data;
  const idType = u.SubjectNameID.slice(0, 1);
  return {
    nationalId: u.SubjectNameID,
    ...(NATIONAL_ID_TYPES[idType] ? { idType, idTypeLabel: NATIONAL_ID_TYPES[idType] } : {}),
    ...(blank(u.family_name) ? { lastName: blank(u.family_name) } : {}),
    ...(blank(u.given_name) ? { firstName: blank(u.given_name) } : {}),
    ...(blank(u.email) ? { email: blank(u.email) } : {}),
    exercices: (u.SubjectRefPro?.exercices ?? []).map((e) => ({
      professionCode: blank(e.codeProfession),
      categoryCode: blank(e.codeCategorieProfessionnelle),
      specialtyCode: blank(e.codeSavoirFaire),
      specialtyType: blank(e.codeTypeSavoirFaire),
      lastName: blank(e.nomDexercice),
      firstName: blank(e.prenomDexercice),
      activities: (e.activities ?? []).map((a) => ({
        structureId: blank(a.ancienIdentifiantDeLaStructure),
        sectorCode: blank(a.codeSecteurDactivite),
        structureName: blank(a.raisonSocialeSite),
        finess: blank(a.numeroFinessSite),
        siret: blank(a.numeroSiretSite),
        practiceMode: blank(a.codeModeExercice),
      })),
    })),
  };
}
