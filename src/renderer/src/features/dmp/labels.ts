import type { DmpDocument, DmpStatusResult } from '../../../../shared/api';
import type { Tone } from '../../components/StatusBadge';

/** French labels, tones and consequences of the DMP record screen. */

export const DOC_STATUS: Record<string, { label: string; tone: Tone }> = {
  approved: { label: 'Actif', tone: 'success' },
  archived: { label: 'Archivé', tone: 'neutral' },
  deprecated: { label: 'Ancienne version', tone: 'warning' },
  deleted: { label: 'Supprimé', tone: 'error' },
};

export function statusOf(s: string): { label: string; tone: Tone } {
  return DOC_STATUS[s] ?? { label: s, tone: 'neutral' };
}

export type MaskingCode = 'MASQUE_PS' | 'INVISIBLE_PATIENT' | 'INVISIBLE_REPRESENTANTS_LEGAUX';

export const MASKING: Record<MaskingCode, { badge: string; tone: Tone; meaning: string }> = {
  MASQUE_PS: {
    badge: 'Masqué aux professionnels',
    tone: 'warning',
    meaning: 'visible uniquement par son auteur, les médecins traitants et le patient',
  },
  INVISIBLE_PATIENT: {
    badge: 'Invisible au patient',
    tone: 'info',
    meaning: 'le patient ne le voit pas dans Mon espace santé tant qu’un professionnel ne l’en a pas informé (consultation d’annonce)',
  },
  INVISIBLE_REPRESENTANTS_LEGAUX: {
    badge: 'Invisible aux représentants légaux',
    tone: 'info',
    meaning: 'les représentants légaux du patient (parents d’un mineur, tuteur) ne le voient pas',
  },
};

export function maskingCodes(d: Pick<DmpDocument, 'masking'>): MaskingCode[] {
  return d.masking.filter((m): m is MaskingCode => m in MASKING);
}

/** DICOM modalities (event codes 1.2.840.10008.2.16.4) offered in the filter. */
export const MODALITIES: { code: string; label: string }[] = [
  { code: 'CT', label: 'Scanner (CT)' },
  { code: 'MR', label: 'IRM (MR)' },
  { code: 'US', label: 'Échographie (US)' },
  { code: 'CR', label: 'Radiographie numérisée (CR)' },
  { code: 'DX', label: 'Radiographie numérique (DX)' },
  { code: 'MG', label: 'Mammographie (MG)' },
  { code: 'NM', label: 'Médecine nucléaire (NM)' },
  { code: 'PT', label: 'TEP (PT)' },
  { code: 'XA', label: 'Angiographie (XA)' },
  { code: 'RF', label: 'Radioscopie (RF)' },
];

export const MODALITY_SCHEME = '1.2.840.10008.2.16.4';
export const KOS_TYPE = '55113-5';
export const CR_IMG_TYPE = '18748-4';

/** HL7 DTM (YYYYMMDD[HHMM[SS]], UTC in XDS) → Date. */
export function dtmToDate(v: string | undefined | null): Date | undefined {
  if (!v) return undefined;
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?/.exec(v);
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h, mi = '00', s = '00'] = m;
  if (!h) return new Date(Number(y), Number(mo) - 1, Number(d));
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)));
}

const dateFmt = new Intl.DateTimeFormat('fr-FR', { day: '2-digit', month: '2-digit', year: 'numeric' });
const dateTimeFmt = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeStyle: 'short', timeZone: 'Europe/Paris' });
const longFmt = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long' });

export function frDate(v: string | undefined | null): string {
  const d = dtmToDate(v);
  return d ? dateFmt.format(d) : '—';
}
export function frDateTime(v: string | undefined | null): string {
  const d = dtmToDate(v);
  if (!d) return '—';
  return v && v.length > 8 ? dateTimeFmt.format(d) : dateFmt.format(d);
}
export function frLongDate(v: string | undefined | null): string {
  const d = dtmToDate(v);
  return d ? longFmt.format(d) : '—';
}
/** ISO (2021-01-08T09:25:00+01:00 or 2021-01-08) → French date and time. */
export function frIso(v: string | undefined | null): string {
  if (!v) return '—';
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return v;
  return v.length > 10 ? dateTimeFmt.format(d) : longFmt.format(d);
}

/** An XCN (id^FAMILY^Given^…) or XON (Name^^^…) author → a readable name. */
export function authorName(a: string): string {
  const parts = a.split('^');
  if (parts.length >= 3 && /^\d/.test(parts[0] ?? '') && parts[1]) return [parts[2], parts[1]].filter(Boolean).join(' ');
  return parts[0] || a;
}

/** 2024-03-01 (date input) → DTM bounds. */
export function dayFrom(iso: string): string {
  return iso.replace(/-/g, '');
}
export function dayTo(iso: string): string {
  return `${iso.replace(/-/g, '')}235959`;
}

export { formatSize } from '../../format';

/** The heading line of the DMP status panel, per TD0.2 state. */
export function statusHeadline(s: DmpStatusResult): { title: string; tone: 'success' | 'warning' | 'error' | 'info' } {
  if (s.dmp === 'INEXISTANT') return { title: 'Ce patient n’a pas de DMP', tone: 'warning' };
  if (s.dmp === 'FERME') return { title: 'Le DMP de ce patient est fermé', tone: 'error' };
  switch (s.authorization) {
    case 'VALIDE':
      return { title: 'DMP actif — vous êtes autorisé(e) à y accéder', tone: 'success' };
    case 'NON_EXISTE':
      return { title: 'DMP actif — autorisation d’accès à enregistrer', tone: 'warning' };
    case 'EXPIRE':
      return { title: 'DMP actif — votre autorisation d’accès a expiré', tone: 'warning' };
    case 'INTERDIT':
      return { title: 'Accès refusé : le patient vous a bloqué', tone: 'error' };
  }
}

export type DocAction = 'mask-ps' | 'unmask-ps' | 'invisible-patient' | 'visible-patient' | 'invisible-legal-reps' | 'visible-legal-reps' | 'archive' | 'unarchive' | 'delete';

/** Button label, confirmation title, consequence and success message of each TD3.3 action. */
export const ACTIONS: Record<DocAction, { button: string; title: string; confirm: string; consequence: string[]; done: string; danger?: boolean }> = {
  'mask-ps': {
    button: 'Masquer aux professionnels',
    title: 'Masquer ce document aux professionnels de santé ?',
    confirm: 'Masquer le document',
    consequence: [
      'Le document ne sera plus visible que par son auteur, les médecins traitants du patient et le patient lui-même.',
      'Les autres professionnels autorisés sur ce DMP ne le verront plus dans leurs recherches.',
    ],
    done: 'Document masqué aux professionnels de santé.',
  },
  'unmask-ps': {
    button: 'Démasquer',
    title: 'Rendre ce document visible aux professionnels de santé ?',
    confirm: 'Démasquer le document',
    consequence: ['Tous les professionnels autorisés sur le DMP du patient pourront de nouveau consulter ce document (selon la matrice d’habilitation).'],
    done: 'Document de nouveau visible par les professionnels de santé.',
  },
  'invisible-patient': {
    button: 'Rendre invisible au patient',
    title: 'Rendre ce document invisible au patient ?',
    confirm: 'Rendre invisible au patient',
    consequence: [
      'Le patient ne verra pas ce document dans Mon espace santé tant qu’il n’en aura pas été informé lors d’une consultation d’annonce.',
      'Ce n’est possible que si le document ne lui a encore jamais été visible.',
    ],
    done: 'Document rendu invisible au patient.',
  },
  'visible-patient': {
    button: 'Rendre visible au patient',
    title: 'Rendre ce document visible au patient ?',
    confirm: 'Rendre visible au patient',
    consequence: [
      'Le patient pourra lire ce document dans Mon espace santé : faites-le après l’avoir informé (consultation d’annonce).',
      'Ce choix est définitif : le document ne pourra plus lui être caché ensuite.',
    ],
    done: 'Document visible par le patient.',
  },
  'invisible-legal-reps': {
    button: 'Rendre invisible aux représentants légaux',
    title: 'Rendre ce document invisible aux représentants légaux ?',
    confirm: 'Rendre invisible aux représentants légaux',
    consequence: ['Les représentants légaux du patient (parents d’un mineur, tuteur) ne verront pas ce document dans Mon espace santé ; le patient lui-même le verra.'],
    done: 'Document rendu invisible aux représentants légaux.',
  },
  'visible-legal-reps': {
    button: 'Rendre visible aux représentants légaux',
    title: 'Rendre ce document visible aux représentants légaux ?',
    confirm: 'Rendre visible aux représentants légaux',
    consequence: ['Les représentants légaux du patient pourront consulter ce document dans Mon espace santé.'],
    done: 'Document visible par les représentants légaux.',
  },
  archive: {
    button: 'Archiver',
    title: 'Archiver ce document ?',
    confirm: 'Archiver le document',
    consequence: [
      'Le document reste dans le DMP mais n’apparaît plus dans la liste par défaut des professionnels (filtre « Archivés » pour le retrouver).',
      'Vous pourrez le désarchiver à tout moment.',
    ],
    done: 'Document archivé.',
  },
  unarchive: {
    button: 'Désarchiver',
    title: 'Désarchiver ce document ?',
    confirm: 'Désarchiver le document',
    consequence: ['Le document redevient actif et réapparaît dans la liste par défaut.'],
    done: 'Document désarchivé : il est de nouveau actif.',
  },
  delete: {
    button: 'Supprimer',
    title: 'Supprimer ce document du DMP ?',
    confirm: 'Supprimer définitivement',
    consequence: [
      'Le document sera retiré du DMP : plus aucun professionnel ni le patient ne pourra le consulter.',
      'Cette action est irréversible. Seul un auteur du document peut le supprimer.',
    ],
    done: 'Document supprimé du DMP.',
    danger: true,
  },
};
