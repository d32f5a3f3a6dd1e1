import type { InboxDocument, InboxDocumentStatus, InboxSentMessage } from '../../../../shared/api';
import type { Tone } from '../../components/StatusBadge';

/** French wording of the inbox: statuses, classifications, acknowledgements — one place. */
export const DOC_STATUS: Record<InboxDocumentStatus, { label: string; tone: Tone; help: string }> = {
  integrated: { label: 'Intégré', tone: 'success', help: 'Rattaché automatiquement ou manuellement au dossier du patient.' },
  queued: { label: 'À importer', tone: 'warning', help: 'Le patient n’a pas pu être reconnu avec certitude : rattachez-le manuellement.' },
  replaced: { label: 'Remplacé', tone: 'neutral', help: 'Une version plus récente de ce document a été reçue ; celle-ci reste consultable.' },
  deleted: { label: 'Supprimé', tone: 'neutral', help: 'L’auteur a demandé la suppression : le document est marqué, jamais effacé.' },
  rejected: { label: 'Rejeté', tone: 'error', help: 'Le document n’a pas pu être intégré.' },
  duplicate: { label: 'Déjà reçu', tone: 'info', help: 'Ce document était déjà présent : rien n’a changé.' },
};

export const CLASSIFICATION: Record<InboxDocument['classification'], string> = {
  initial: 'Envoi initial',
  replacement: 'Nouvelle version',
  'metadata-update': 'Mise à jour des métadonnées',
  deletion: 'Demande de suppression',
};

export type AckView = { label: string; tone: Tone };

/** Acknowledgements of one sent message, in the order they arrive. */
export function ackViews(m: InboxSentMessage): { key: string; title: string; view: AckView }[] {
  const out: { key: string; title: string; view: AckView }[] = [];
  if (m.status !== 'sent') {
    const st: Record<InboxSentMessage['status'], AckView> = {
      queued: { label: 'En attente d’envoi', tone: 'info' },
      sending: { label: 'Envoi en cours', tone: 'info' },
      sent: { label: 'Envoyé', tone: 'success' },
      failed: { label: 'Échec de l’envoi', tone: 'error' },
    };
    out.push({ key: 'send', title: 'Envoi', view: st[m.status] });
    return out;
  }
  out.push({
    key: 'delivery',
    title: 'Remise',
    view:
      m.delivery === 'delivered'
        ? { label: 'Remis', tone: 'success' }
        : m.delivery === 'failed'
          ? { label: 'Non remis', tone: 'error' }
          : m.delivery === 'delayed'
            ? { label: 'Remise retardée', tone: 'warning' }
            : m.requested.delivery
              ? { label: 'En attente', tone: 'neutral' }
              : { label: 'Non demandé', tone: 'neutral' },
  });
  out.push({
    key: 'integration',
    title: 'Intégration',
    view:
      m.integration === 'integrated'
        ? { label: 'Intégré', tone: 'success' }
        : m.integration === 'failed'
          ? { label: m.error ? `Échec ${m.error.code}` : 'Échec', tone: 'error' }
          : m.requested.read
            ? { label: 'En attente', tone: 'neutral' }
            : { label: 'Non demandé', tone: 'neutral' },
  });
  out.push({
    key: 'read',
    title: 'Lecture',
    view: m.read === 'read' ? { label: 'Lu', tone: 'success' } : m.requested.read ? { label: 'Pas encore lu', tone: 'neutral' } : { label: 'Non demandé', tone: 'neutral' },
  });
  return out;
}

const GENDER: Record<string, string> = { F: 'Féminin', M: 'Masculin', U: 'Indéterminé' };
export function genderLabel(g: string | null | undefined): string {
  return g ? (GENDER[g] ?? g) : '—';
}

export { formatSize } from '../../format';
