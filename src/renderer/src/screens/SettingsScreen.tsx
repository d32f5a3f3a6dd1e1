import { useState } from 'react';
import type { ApiError } from '../../../shared/api/types';
import { lps, toApiError } from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { useApp } from '../store/app';

export function SettingsScreen() {
  const { info, profile, load } = useApp();
  const [error, setError] = useState<ApiError>();

  const choose = async (p: 'sandbox' | 'production') => {
    setError(undefined);
    try {
      await lps.invoke('profile.choose', { profile: p });
      await load();
    } catch (e) {
      setError(toApiError(e));
    }
  };

  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Paramètres</h1>
      <h2>Profil</h2>
      <fieldset className="choices">
        <legend>Services utilisés</legend>
        <label>
          <input type="radio" name="profile" checked={profile?.active === 'sandbox'} onChange={() => choose('sandbox')} />
          Bac à sable — services de test locaux (DMP de test, messagerie, PACS, Pro Santé Connect, carte CPS de test)
        </label>
        <label>
          <input type="radio" name="profile" checked={profile?.active === 'production'} onChange={() => choose('production')} />
          Production — services nationaux (nécessite une configuration)
        </label>
      </fieldset>
      {error ? <ErrorNotice error={error} /> : null}
      <h2>À propos</h2>
      <dl className="facts">
        <dt>Application</dt>
        <dd>{info ? `${info.name} ${info.version}` : '—'}</dd>
        <dt>Identifiant logiciel (X-MSS-NIL)</dt>
        <dd>
          <code>{info?.nil ?? '—'}</code>
        </dd>
        <dt>Dossier des données</dt>
        <dd>
          <code>{info?.dataDir ?? '—'}</code>
        </dd>
        {info
          ? Object.entries(info.versions).map(([k, v]) => (
              <div key={k} className="facts-row">
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))
          : null}
      </dl>
    </section>
  );
}
