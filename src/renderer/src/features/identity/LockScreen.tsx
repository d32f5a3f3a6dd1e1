import { useEffect, useRef, useState } from 'react';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { StatusBadge } from '../../components/StatusBadge';
import { PinForm } from './SignIn';
import { practitionerName, useIdentity } from './store';

/**
 * The card of a card session was removed: everything is hidden behind a modal lock (the background is inert)
 * until the same card is back and its PIN entered again. Main refuses privileged calls meanwhile.
 */
export function LockScreen() {
  const { session, card, refreshCard } = useIdentity();
  const ref = useRef<HTMLDialogElement>(null);
  const [error, setError] = useState<ApiError>();
  const locked = session?.status === 'locked';
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (locked && !d.open) {
      d.showModal();
      void refreshCard();
    }
    if (!locked && d.open) d.close();
  }, [locked, refreshCard]);
  const signOut = async () => {
    setError(undefined);
    try {
      await lps.invoke('identity.session.signOut', {});
    } catch (err) {
      setError(toApiError(err));
    }
  };
  return (
    <dialog ref={ref} className="dialog lock-screen" aria-labelledby="lock-title" onCancel={(e) => e.preventDefault()} data-testid="lock-screen">
      {locked ? (
        <>
          <h2 id="lock-title">Session verrouillée</h2>
          <p>
            La carte CPS de <strong>{practitionerName(session.practitioner)}</strong> a été retirée du lecteur. Les données et
            les actions restent inaccessibles tant que la carte n’est pas réinsérée et son code PIN saisi.
          </p>
          <p className="row">
            <span>Lecteur :</span>
            {card?.present ? <StatusBadge tone="success">Carte insérée</StatusBadge> : <StatusBadge tone="warning">Aucune carte détectée</StatusBadge>}
          </p>
          {card?.present ? <PinForm card={card} submitLabel="Déverrouiller" /> : <p className="muted">Réinsérez votre carte CPS.</p>}
          {error ? <ErrorNotice error={error} /> : null}
          <div className="dialog-actions">
            <button type="button" className="button button-secondary" onClick={() => void signOut()}>
              Se déconnecter
            </button>
          </div>
        </>
      ) : null}
    </dialog>
  );
}
