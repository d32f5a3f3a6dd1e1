import { useState } from 'react';
import type { ApiError } from '../../../../shared/api/types';
import { toApiError } from '../../api';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Loading } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { patientName, usePatient } from '../../store/patient';
import { frLongDate, statusHeadline } from './labels';
import { useDmp } from './store';

/** TD0.2 result in plain words, with what to do — and the TD0.3 authorization after the patient's consent. */
export function StatusPanel() {
  const { status, statusError, statusLoading, checkStatus, authorize } = useDmp();
  const patient = usePatient((s) => s.current);
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [authError, setAuthError] = useState<ApiError>();

  if (statusError) return <ErrorNotice error={statusError} onRetry={() => void checkStatus()} />;
  if (!status || statusLoading) return <Loading label="Vérification du DMP du patient (existence et autorisation d’accès)…" />;

  const head = statusHeadline(status);
  const canAuthorize = status.dmp === 'ACTIF' && (status.authorization === 'NON_EXISTE' || status.authorization === 'EXPIRE');
  const doAuthorize = async () => {
    setAsking(false);
    setBusy(true);
    setAuthError(undefined);
    try {
      await authorize();
    } catch (e) {
      setAuthError(toApiError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className={`notice notice-${head.tone} dmp-status`} data-testid="dmp-status" role="status">
      <p className="notice-title">{head.title}</p>
      <p className="dmp-status-advice">{status.advice}</p>
      {status.dmp === 'FERME' && (status.closureDate || status.closureReason) ? (
        <p>
          Fermé{status.closureDate ? ` le ${frLongDate(status.closureDate)}` : ''}
          {status.closureReason ? ` — motif : ${status.closureReason}` : ''}.
        </p>
      ) : null}
      {status.dmp === 'INEXISTANT' ? <p>Le patient peut créer son DMP depuis Mon espace santé ; vous pouvez continuer à lui adresser ses documents par messagerie sécurisée.</p> : null}
      {status.authorization === 'INTERDIT' && status.dmp === 'ACTIF' ? <p>Seul le patient peut lever ce blocage, depuis Mon espace santé.</p> : null}
      {status.dmp === 'ACTIF' && status.authorization === 'VALIDE' ? (
        <p className="row">
          {status.treatingPhysician ? <StatusBadge tone="info">Vous êtes médecin traitant</StatusBadge> : null}
          {status.patientWebAccess ? <StatusBadge tone="neutral">Le patient a activé son accès à Mon espace santé</StatusBadge> : null}
        </p>
      ) : null}
      {canAuthorize ? (
        <div className="row">
          <button type="button" className="button" onClick={() => setAsking(true)} disabled={busy}>
            {status.authorization === 'EXPIRE' ? 'Renouveler l’autorisation d’accès' : 'Enregistrer l’autorisation d’accès'}
          </button>
          {busy ? <Loading label="Enregistrement de l’autorisation dans le DMP…" /> : null}
        </div>
      ) : null}
      {authError ? <ErrorNotice error={authError} /> : null}
      {/* Mounted only while open: ConfirmDialog's heading id is fixed, two in the page would share it. */}
      {asking ? (
      <ConfirmDialog
        open={asking}
        title="Consentement du patient"
        confirmLabel="Je confirme : enregistrer l’autorisation"
        onConfirm={() => void doAuthorize()}
        onCancel={() => setAsking(false)}
      >
        <p>
          Avant d’accéder au DMP de <strong>{patient ? patientName(patient) : 'ce patient'}</strong>, vous devez avoir recueilli son consentement.
        </p>
        <p>
          <strong>Je confirme avoir informé le patient et qu’il ne s’est pas opposé à ce que j’accède à son dossier médical partagé</strong> pour
          consulter et alimenter ses documents.
        </p>
        <p className="muted">L’autorisation est enregistrée dans le DMP à votre nom ; le patient peut la retirer à tout moment depuis Mon espace santé.</p>
      </ConfirmDialog>
      ) : null}
    </div>
  );
}
