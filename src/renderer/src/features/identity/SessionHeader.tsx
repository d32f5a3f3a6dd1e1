import { useState } from 'react';
import { lps } from '../../api';
import { practitionerName, useIdentity } from './store';

/** Top bar: who is signed in (and for which structure), with "Se déconnecter"; or a sign-in button. */
export function SessionHeader() {
  const { session, openSignIn, chooseActivity } = useIdentity();
  const [leaving, setLeaving] = useState(false);
  if (!session) return null;
  if (session.status === 'signed-out') {
    return (
      <div className="session-header">
        <span className="session-who muted-inverse">Non connecté</span>
        <button type="button" className="button button-topbar" onClick={() => openSignIn(true)}>
          Se connecter
        </button>
      </div>
    );
  }
  const activity = session.activities.find((a) => a.id === session.activityId);
  const signOut = async () => {
    setLeaving(true);
    try {
      await lps.invoke('identity.session.signOut', {});
    } finally {
      setLeaving(false);
    }
  };
  return (
    <div className="session-header" data-testid="session-header">
      <span className="session-who">
        <strong data-testid="session-name">{practitionerName(session.practitioner)}</strong>
        {activity ? <span className="session-activity"> · {activity.structureName ?? activity.label}</span> : null}
        <span className="session-method"> · {session.method === 'card' ? 'carte CPS' : 'Pro Santé Connect'}</span>
      </span>
      {session.activities.length > 1 ? (
        <button type="button" className="button button-topbar" onClick={() => chooseActivity(true)}>
          Changer d’activité
        </button>
      ) : null}
      <button type="button" className="button button-topbar" disabled={leaving} onClick={() => void signOut()}>
        {leaving ? 'Déconnexion…' : 'Se déconnecter'}
      </button>
    </div>
  );
}
