import { useEffect, type ReactNode } from 'react';
import { lps } from './api';
import { ErrorNotice } from './components/ErrorNotice';
import { InboxScreen } from './features/inbox/InboxScreen';
import { AuditScreen } from './screens/AuditScreen';
import { ImagingScreen } from './features/imaging';
import { DmpScreen } from './features/dmp';
import { ShareScreen } from './features/share';
import { HomeScreen } from './screens/HomeScreen';
import { PatientsScreen } from './screens/PatientsScreen';
import { Toasts } from './components/Toasts';
import { useTasks } from './store/tasks';
import { useToasts } from './store/toasts';
import { SettingsScreen } from './features/settings/SettingsScreen';
import { IdentityGate, LockScreen, SessionHeader } from './features/identity';
import { useApp, type ScreenId } from './store/app';

const NAV: { id: ScreenId; label: string }[] = [
  { id: 'home', label: 'Accueil' },
  { id: 'patients', label: 'Patients' },
  { id: 'share', label: 'Partager' },
  { id: 'inbox', label: 'Messagerie' },
  { id: 'dmp', label: 'Dossier DMP' },
  { id: 'imaging', label: 'Imagerie' },
  { id: 'audit', label: 'Traces' },
  { id: 'settings', label: 'Paramètres' },
];

function screenOf(id: ScreenId): ReactNode {
  switch (id) {
    case 'home':
      return <HomeScreen />;
    case 'patients':
      return <PatientsScreen />;
    case 'audit':
      return <AuditScreen />;
    case 'settings':
      return <SettingsScreen />;
    case 'share':
      return <ShareScreen />;
    case 'inbox':
      return <InboxScreen />;
    case 'dmp':
      return <DmpScreen />;
    case 'imaging':
      return <ImagingScreen />;
  }
}

export function App() {
  const { screen, go, load, info, profile, loadError, unseen, bumpUnseen } = useApp();

  useEffect(() => {
    void load();
  }, [load]);
  const pushToast = useToasts((s) => s.push);
  const updateTask = useTasks((s) => s.update);
  useEffect(
    () =>
      lps.on('notification', (n) => {
        pushToast(n);
        if (n.level === 'info' || n.level === 'success') bumpUnseen();
      }),
    [bumpUnseen, pushToast],
  );
  useEffect(() => lps.on('task.progress', updateTask), [updateTask]);

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Aller au contenu
      </a>
      <header className="topbar">
        <span className="brand">{info?.name ?? 'Compagnon LPS'}</span>
        {profile ? (
          <span className={`badge ${profile.active === 'sandbox' ? 'badge-sandbox' : 'badge-production'}`} data-testid="profile-badge">
            {profile.active === 'sandbox' ? 'Bac à sable' : 'Production'}
          </span>
        ) : null}
        <SessionHeader />
      </header>
      <nav className="sidebar" aria-label="Navigation principale">
        <ul>
          {NAV.map((item) => (
            <li key={item.id}>
              <button
                type="button"
                className={`nav-item${screen === item.id ? ' active' : ''}`}
                aria-current={screen === item.id ? 'page' : undefined}
                onClick={() => go(item.id)}
              >
                {item.label}
                {item.id === 'inbox' && unseen > 0 ? (
                  <span className="count" aria-label={`${unseen} nouveau(x) document(s)`}>
                    {unseen}
                  </span>
                ) : null}
              </button>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        {loadError ? <ErrorNotice error={loadError} onRetry={() => void load()} /> : null}
        <IdentityGate screen={screen}>{screenOf(screen)}</IdentityGate>
      </main>
      <LockScreen />
      <Toasts />
    </div>
  );
}
