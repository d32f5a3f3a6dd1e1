import type { Patient } from '../../shared/api/patients';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { buildCda, parseCda, type ParsedCda } from '../documents';
import { identitySession } from '../identity/session';
import { lookupCode, valueSet } from '../terminology';

/** Who authors a document shared from the app: the signed-in practitioner and the chosen activity. */
export interface ShareAuthor {
  nationalId: string;
  family: string;
  given: string;
  professionCode: string;
  organization: { id: string; name: string };
  facilityType: string;
}

/** J07 types offered first in the wizard (a GP's daily documents), when present in the terminology table. */
const COMMON_TYPES = ['11488-4', '34133-9', '57833-6', '18842-5', '11490-0', '34794-8', '11502-2', '18748-4', '56445-0', '60591-5'];

export function documentTypes(): { code: string; codeSystem: string; label: string; common: boolean }[] {
  const concepts = valueSet('J07_TYPE').concepts;
  const common = COMMON_TYPES.map((c) => concepts.find((x) => x.code === c)).filter((x): x is NonNullable<typeof x> => !!x);
  const rest = concepts.filter((c) => !COMMON_TYPES.includes(c.code)).sort((a, b) => a.displayName.localeCompare(b.displayName, 'fr'));
  return [...common.map((c) => ({ code: c.code, codeSystem: c.codeSystem, label: c.displayName, common: true })), ...rest.map((c) => ({ code: c.code, codeSystem: c.codeSystem, label: c.displayName, common: false }))];
}

interface SandboxIdentity {
  card?: { holder?: { nationalId?: string; lastName?: string; firstName?: string; professionCode?: string } };
  pki?: { org?: { structureId?: string; name?: string } };
}

/**
 * The author of the CDA: the practitioner of the current session (card or PSC) with the chosen activity's
 * structure; in the sandbox without a session, the test practitioner (card holder) of the sandbox structure.
 */
export function shareAuthor(core: Core): ShareAuthor {
  const session = identitySession(core).get();
  const sandbox = core.profiles.state(false).active === 'sandbox' ? (core.sandbox.status() as SandboxIdentity) : undefined;
  const org = sandbox?.pki?.org;
  if (session.status === 'signed-in' && session.practitioner) {
    const p = session.practitioner;
    const activity = session.activities.find((a) => a.id === session.activityId) ?? (session.activities.length === 1 ? session.activities[0] : undefined);
    const structureId = activity?.structureId ?? org?.structureId;
    const structureName = activity?.structureName ?? org?.name ?? structureId;
    if (!structureId || !structureName) throw new AppError('SHARE_NO_STRUCTURE', "Choisissez la structure pour laquelle vous exercez avant de partager un document.", 'no activity structure');
    return {
      nationalId: p.nationalId,
      family: p.lastName ?? p.nationalId,
      given: p.firstName ?? '',
      professionCode: p.professionCode ?? '10',
      organization: { id: structureId, name: structureName },
      facilityType: activity?.sectorCode && lookupCode('J02_FACILITY_TYPE', activity.sectorCode) ? activity.sectorCode : 'SA07',
    };
  }
  if (session.status === 'locked') throw new AppError('SESSION_LOCKED', 'La session est verrouillée : réinsérez votre carte CPS.', 'locked');
  const holder = sandbox?.card?.holder;
  if (holder?.nationalId && org?.structureId && org.name) {
    return {
      nationalId: holder.nationalId,
      family: holder.lastName ?? 'PRATICIEN',
      given: holder.firstName ?? '',
      professionCode: holder.professionCode ?? '10',
      organization: { id: org.structureId, name: org.name },
      facilityType: 'SA07',
    };
  }
  throw new AppError('SHARE_NOT_SIGNED_IN', 'Connectez-vous (carte CPS ou Pro Santé Connect) : le document doit porter votre identité.', 'no practitioner session');
}

const PLACEHOLDER = 'LPS-SHARE-PDF-BODY-PLACEHOLDER';

function wrap64(b64: string): string {
  return b64.replace(/(.{76})/g, '$1\n');
}

/**
 * Builds the level-1 CDA around a PDF held in memory. The documents capability reads a PDF body from a file;
 * a document body must never be written in clear to disk, so the CDA is built with a text placeholder whose
 * nonXMLBody is then swapped for the PDF (same element, same base64 representation), and the result is
 * parsed again to prove it is a PDF-bodied CDA.
 */
export function buildCdaFromPdf(input: { pdf: Buffer; patient: Patient; author: ShareAuthor; typeCode: string; title: string; date: string; now?: Date }): { bytes: Buffer; parsed: ParsedCda } {
  const { pdf, patient: p, author: a } = input;
  if (pdf.length < 8 || pdf.subarray(0, 5).toString('latin1') !== '%PDF-') throw new AppError('SHARE_NOT_PDF', "Le fichier choisi n'est pas un PDF.", 'missing %PDF- header');
  if (!lookupCode('J07_TYPE', input.typeCode)) throw new AppError('SHARE_TYPE_UNKNOWN', "Ce type de document n'est pas dans la terminologie des types de documents (JDV J07).", input.typeCode);
  if (!p.ins && !p.ipp) throw new AppError('SHARE_PATIENT_NO_ID', "Le patient n'a ni INS ni IPP : complétez son identité avant de partager.", `patient ${p.id}`);
  if (p.ins && !p.insQualified && !p.ipp) {
    throw new AppError('SHARE_INS_NOT_QUALIFIED', "L'INS de ce patient n'est pas qualifiée et il n'a pas d'IPP : le document ne peut pas l'identifier.", `patient ${p.id}`);
  }
  const start = `${input.date}T12:00:00${offsetOf(input.now ?? new Date())}`;
  const built = buildCda(
    {
      patient: {
        ...(p.ins && p.insOid ? { ins: p.ins, insOid: p.insOid, insQualified: p.insQualified } : {}),
        birthFamily: p.birthFamily,
        birthGiven: p.birthGivens || p.firstGiven,
        firstGiven: p.firstGiven,
        ...(p.usedFamily ? { usedFamily: p.usedFamily } : {}),
        ...(p.usedGiven ? { usedGiven: p.usedGiven } : {}),
        gender: p.gender,
        birthDate: p.birthDate,
        ...(p.birthPlace ? { birthPlace: p.birthPlace } : {}),
        ...(p.ipp && p.ippOid ? { ipp: { id: p.ipp, oid: p.ippOid } } : {}),
      },
      author: { idNat: a.nationalId, family: a.family, given: a.given || '-', profession: a.professionCode, organization: a.organization },
      document: { typeCode: input.typeCode, title: input.title, text: PLACEHOLDER, serviceStart: start, facilityType: a.facilityType, practiceSetting: 'AMBULATOIRE', confidentiality: 'N' },
    } as never,
    { ...(input.now ? { now: input.now } : {}) },
  );
  const marker = `<text mediaType="text/plain" representation="B64">\n${wrap64(Buffer.from(PLACEHOLDER, 'utf8').toString('base64'))}\n</text>`;
  if (built.xml.split(marker).length !== 2) throw new AppError('SHARE_CDA_BUILD', "Le document n'a pas pu être construit.", 'placeholder body not found exactly once');
  const xml = built.xml.replace(marker, () => `<text mediaType="application/pdf" representation="B64">\n${wrap64(pdf.toString('base64'))}\n</text>`);
  const bytes = Buffer.from(xml, 'utf8');
  const parsed = parseCda(bytes);
  if (parsed.body.kind !== 'pdf' || !parsed.body.pdf.equals(pdf)) throw new AppError('SHARE_CDA_BUILD', "Le document n'a pas pu être construit.", `body kind ${parsed.body.kind}`);
  return { bytes, parsed };
}

function offsetOf(d: Date): string {
  const m = -d.getTimezoneOffset();
  const sign = m >= 0 ? '+' : '-';
  const abs = Math.abs(m);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
