import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { CardStatus } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Loading } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { useApp } from '../../store/app';
import { practitionerName, useIdentity } from './store';

/** Sign-in: CPS card (PIN) or Pro Santé Connect (system browser). */
export function SignInScreen({ reason }: { reason?: string }) {
  return (
    <section aria-labelledby="signin-title" className="signin">
      <h1 id="signin-title">Connexion</h1>
      <p className="lead">
        {reason ?? 'Identifiez-vous pour utiliser la messagerie sécurisée, le DMP et l’imagerie.'} Choisissez votre moyen
        d’authentification.
      </p>
      <div className="signin-methods">
        <CardPanel />
        <PscPanel />
      </div>
    </section>
  );
}

function readerText(card: CardStatus | undefined): { tone: 'success' | 'neutral' | 'warning' | 'error'; text: string } {
  if (!card) return { tone: 'neutral', text: 'Lecture du lecteur de cartes…' };
  if (!card.present) return { tone: 'warning', text: 'Aucune carte détectée' };
  if (card.pinState === 'locked') return { tone: 'error', text: 'Carte bloquée' };
  return { tone: 'success', text: 'Carte insérée' };
}

/** The PIN form: one attempt per submission, field cleared after each attempt, PIN never kept anywhere else. */
export function PinForm({ card, submitLabel, onSignedIn }: { card: CardStatus; submitLabel: string; onSignedIn?: () => void }) {
  const refreshCard = useIdentity((s) => s.refreshCard);
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const input = useRef<HTMLInputElement>(null);
  const locked = card.pinState === 'locked';

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy || locked) return;
    const attempt = pin;
    setPin(''); // cleared at once: the PIN only travels in this one call
    if (!/^\d{4,8}$/.test(attempt)) {
      setError({ code: 'CARD_PIN_FORMAT', message: 'Le code PIN comporte de 4 à 8 chiffres.' });
      input.current?.focus();
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await lps.invoke('identity.card.login', { pin: attempt });
      onSignedIn?.();
    } catch (err) {
      setError(toApiError(err));
      await refreshCard(); // the PIN state (remaining tries) as the card now reports it
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  };

  const warningTone = card.pinState === 'locked' ? 'notice-error' : 'notice-warning';
  return (
    <form onSubmit={submit} className="pin-form" aria-label="Code PIN de la carte CPS">
      {card.pinWarning && !error ? (
        <div className={`notice ${warningTone}`} role="alert" data-testid="pin-warning">
          <p className="notice-title">{card.pinWarning}</p>
        </div>
      ) : null}
      {error ? (
        <div data-testid="pin-error">
          <ErrorNotice error={error} />
        </div>
      ) : null}
      <div className="field">
        <label htmlFor="cps-pin">Code PIN</label>
        <input
          id="cps-pin"
          ref={input}
          type="password"
          inputMode="numeric"
          autoComplete="off"
          maxLength={8}
          value={pin}
          disabled={locked || busy}
          aria-describedby="cps-pin-help"
          onChange={(e) => setPin(e.target.value.replace(/\D/g, ''))}
        />
        <small id="cps-pin-help" className="field-help">
          {locked
            ? 'La carte est bloquée : elle doit être débloquée avec son code PUK.'
            : card.remainingTries !== undefined
              ? `4 à 8 chiffres. Essais restants avant blocage : ${card.remainingTries}.`
              : '4 à 8 chiffres.'}
        </small>
      </div>
      <button type="submit" className="button" disabled={locked || busy || pin.length === 0}>
        {busy ? 'Vérification…' : submitLabel}
      </button>
    </form>
  );
}

function CardPanel() {
  const { card, cardError, refreshCard } = useIdentity();
  const go = useApp((s) => s.go);
  useEffect(() => {
    void refreshCard(); // also starts the reader watch in main: insert / remove events follow
  }, [refreshCard]);
  const reader = readerText(card);
  return (
    <div className="panel signin-method" data-testid="signin-card">
      <h2>Carte CPS</h2>
      {cardError ? (
        <>
          <ErrorNotice error={cardError} onRetry={() => void refreshCard()} />
          <button type="button" className="button button-secondary" onClick={() => go('settings')}>
            Ouvrir les paramètres de la carte
          </button>
        </>
      ) : !card ? (
        <Loading label="Lecture du lecteur de cartes…" />
      ) : (
        <>
          <p className="row" aria-live="polite">
            <span>Lecteur :</span>
            <StatusBadge tone={reader.tone} testId="card-reader-state">
              {reader.text}
            </StatusBadge>
            {card.tokenLabel ? <span className="muted">{card.tokenLabel}</span> : null}
          </p>
          {card.present && card.holder ? (
            <p className="holder" data-testid="card-holder">
              <strong>{practitionerName(card.holder)}</strong>
              {card.holder.profession ? ` — ${card.holder.profession}` : ''}
              <br />
              <span className="muted">
                {card.holder.idTypeLabel ?? 'Identifiant'} {card.holder.localId}
                {card.holder.structureName ? ` · ${card.holder.structureName}` : ''}
              </span>
            </p>
          ) : null}
          {card.present ? (
            <PinForm card={card} submitLabel="Valider le code PIN" />
          ) : (
            <p className="muted">Insérez votre carte CPS dans le lecteur : elle sera détectée automatiquement.</p>
          )}
        </>
      )}
    </div>
  );
}

function PscPanel() {
  const browserUrl = useIdentity((s) => s.browserUrl);
  const setBrowserUrl = useIdentity((s) => s.setBrowserUrl);
  const [waiting, setWaiting] = useState(false);
  const [error, setError] = useState<ApiError>();
  const start = async () => {
    setError(undefined);
    setBrowserUrl(undefined);
    setWaiting(true);
    try {
      await lps.invoke('identity.psc.login', {});
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setWaiting(false);
      setBrowserUrl(undefined);
    }
  };
  return (
    <div className="panel signin-method" data-testid="signin-psc">
      <h2>Pro Santé Connect</h2>
      <p className="muted">Avec votre application e-CPS ou votre carte CPS, dans votre navigateur.</p>
      {error ? <ErrorNotice error={error} /> : null}
      {waiting ? (
        <div className="notice notice-info" role="status" data-testid="psc-waiting">
          <p className="notice-title">Authentifiez-vous sur la page Pro Santé Connect ouverte dans votre navigateur.</p>
          <p>Revenez ensuite ici : la connexion se termine automatiquement (délai maximal : 5 minutes).</p>
          {browserUrl ? (
            <p>
              La page ne s’est pas ouverte ?{' '}
              <a href={browserUrl} target="_blank" rel="noopener noreferrer">
                Ouvrir la page de connexion Pro Santé Connect
              </a>
            </p>
          ) : null}
        </div>
      ) : (
        <button type="button" className="button button-psc" onClick={() => void start()}>
          Se connecter avec Pro Santé Connect
        </button>
      )}
    </div>
  );
}
