import { useEffect, useState } from 'react';
import type { SandboxProfile } from '../../../shared/api';
import type { ApiError } from '../../../shared/api/types';
import { lps, toApiError } from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { Loading } from '../components/States';
import { formatDateTime } from '../format';
import { useApp } from '../store/app';

export function HomeScreen() {
  const { info, profile, go } = useApp();
  const [sandbox, setSandbox] = useState<SandboxProfile>();
  const [error, setError] = useState<ApiError>();
  const [echo, setEcho] = useState<string>();

  const load = () => {
    setError(undefined);
    lps.invoke('sandbox.status', {}).then(setSandbox, (e) => setError(toApiError(e)));
  };
  useEffect(load, []);

  const checkLink = async () => {
    try {
      const r = await lps.invoke('app.echo', { text: 'Bonjour' });
      setEcho(`Service local joignable (réponse « ${r.text} » à ${formatDateTime(r.at)}).`);
    } catch (e) {
      setError(toApiError(e));
    }
  };

  return (
    <section aria-labelledby="home-title">
      <h1 id="home-title">Accueil</h1>
      <p className="lead">
        Partagez un document en un geste par messagerie sécurisée de santé et dans le DMP, recevez et intégrez les documents
        de vos correspondants, consultez les examens d'imagerie antérieurs.
      </p>
      <div className="cards">
        <button type="button" className="card card-action" onClick={() => go('share')}>
          <span className="card-title">Partager un document</span>
          <span className="card-text">MSSanté et DMP en une seule action (mode Y).</span>
        </button>
        <button type="button" className="card card-action" onClick={() => go('inbox')}>
          <span className="card-title">Messagerie</span>
          <span className="card-text">Documents reçus, intégration et accusés.</span>
        </button>
        <button type="button" className="card card-action" onClick={() => go('dmp')}>
          <span className="card-title">Dossier médical partagé</span>
          <span className="card-text">Documents du patient, masquage, versions.</span>
        </button>
        <button type="button" className="card card-action" onClick={() => go('imaging')}>
          <span className="card-title">Imagerie</span>
          <span className="card-text">Examens antérieurs et visionneuse DICOM.</span>
        </button>
      </div>

      <h2>Environnement</h2>
      {error ? <ErrorNotice error={error} onRetry={load} /> : null}
      <dl className="facts">
        <dt>Profil actif</dt>
        <dd data-testid="profile">
          {profile ? (profile.active === 'sandbox' ? 'Bac à sable (services de test locaux)' : 'Production') : '—'}
          {profile?.reason === 'default-no-production' ? ' — aucune configuration de production enregistrée' : ''}
        </dd>
        <dt>Version</dt>
        <dd>{info ? `${info.name} ${info.version}` : '—'}</dd>
        <dt>Bac à sable</dt>
        <dd data-testid="sandbox-state">
          {sandbox ? (sandbox.running ? `démarré le ${formatDateTime(sandbox.startedAt)}` : 'arrêté — lancez « lps sandbox up »') : <Loading />}
        </dd>
      </dl>
      {sandbox && Object.keys(sandbox.services).length > 0 ? (
        <table className="table">
          <caption>Services du bac à sable</caption>
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">État</th>
              <th scope="col">Adresse</th>
            </tr>
          </thead>
          <tbody>
            {Object.values(sandbox.services).map((s) => (
              <tr key={s.id}>
                <td>{s.title}</td>
                <td>{s.running ? 'en service' : 'arrêté'}</td>
                <td>
                  <code>{s.url ?? Object.entries(s.ports).map(([k, v]) => `${k}:${v}`).join(', ')}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <p>
        <button type="button" className="button" onClick={checkLink}>
          Vérifier la liaison avec le service local
        </button>
      </p>
      {echo ? (
        <p className="notice notice-success" role="status" data-testid="echo">
          {echo}
        </p>
      ) : null}
    </section>
  );
}
