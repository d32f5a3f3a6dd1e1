import { useState, type FormEvent } from 'react';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { practitionerName, useIdentity } from './store';

/** Which structure / activity the practitioner works for in this session (several PSC activities). */
export function ActivityChoice() {
  const { session, chooseActivity } = useIdentity();
  const [selected, setSelected] = useState(session?.activityId ?? '');
  const [error, setError] = useState<ApiError>();
  if (!session || session.status !== 'signed-in') return null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!selected) return;
    setError(undefined);
    try {
      await lps.invoke('identity.session.selectActivity', { activityId: selected });
      chooseActivity(false);
    } catch (err) {
      setError(toApiError(err));
    }
  };
  return (
    <section aria-labelledby="activity-title">
      <h1 id="activity-title">Choix de l’activité</h1>
      <p className="lead">
        {practitionerName(session.practitioner)}, vous exercez dans plusieurs structures. Pour quelle structure travaillez-vous
        pendant cette session ? Elle figurera dans vos envois (messagerie, DMP) et dans les traces.
      </p>
      <form onSubmit={submit} className="panel">
        <fieldset className="choices activity-choices">
          <legend>Structure et activité</legend>
          {session.activities.map((a) => (
            <label key={a.id}>
              <input type="radio" name="activity" value={a.id} checked={selected === a.id} onChange={() => setSelected(a.id)} />
              <span>
                <strong>{a.structureName ?? a.label}</strong>
                <br />
                <span className="muted">
                  {a.structureName ? a.label.replace(`${a.structureName} — `, '') : a.label}
                  {a.structureId ? ` · identifiant ${a.structureId}` : ''}
                </span>
              </span>
            </label>
          ))}
        </fieldset>
        {error ? <ErrorNotice error={error} /> : null}
        <div className="row">
          <button type="submit" className="button" disabled={!selected}>
            Continuer
          </button>
          {!session.needsActivity ? (
            <button type="button" className="button button-secondary" onClick={() => chooseActivity(false)}>
              Annuler
            </button>
          ) : null}
        </div>
      </form>
    </section>
  );
}
