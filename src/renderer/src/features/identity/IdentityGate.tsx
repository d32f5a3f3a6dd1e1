import { useEffect, type ReactNode } from 'react';
import { lps } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { useApp, type ScreenId } from '../../store/app';
import { ActivityChoice } from './ActivityChoice';
import { SignInScreen } from './SignIn';
import { useIdentity } from './store';

/** Screens that act in the practitioner's name with the national services (MSSanté, DMP, imaging). */
const NEEDS_PRACTITIONER: ReadonlySet<ScreenId> = new Set<ScreenId>(['share', 'inbox', 'dmp', 'imaging']);

/** Follows the identity events from main: session, card reader, pages to open (browser harness). */
function useIdentityEvents(): void {
  const { loadSession, setSession, setCard, setBrowserUrl } = useIdentity();
  useEffect(() => {
    void loadSession();
    const offs = [
      lps.on('identity.session', setSession),
      lps.on('identity.card', (e) => setCard(e.status)),
      lps.on('identity.browser', ({ url }) => {
        // Browser harness: the "system browser" is this browser; a new tab hosts the PSC page.
        setBrowserUrl(url);
        window.open(url, '_blank', 'noopener');
      }),
    ];
    return () => offs.forEach((off) => off());
  }, [loadSession, setSession, setCard, setBrowserUrl]);
}

/**
 * Between the navigation and the screens: the sign-in screen when the user asks for it, or (production profile)
 * opens a screen that needs a practitioner; the choice of activity right after sign-in when there are several.
 */
export function IdentityGate({ screen, children }: { screen: ScreenId; children: ReactNode }) {
  useIdentityEvents();
  const { session, sessionError, signInOpen, choosingActivity, loadSession, openSignIn } = useIdentity();
  const profile = useApp((s) => s.profile);
  useEffect(() => openSignIn(false), [screen, openSignIn]); // another screen chosen: leave the sign-in page
  if (sessionError) return <ErrorNotice error={sessionError} onRetry={() => void loadSession()} />;
  if (!session) return <>{children}</>;
  const sandbox = profile ? profile.active === 'sandbox' : undefined;
  if (session.status === 'signed-in' && (session.needsActivity || choosingActivity)) return <ActivityChoice />;
  if (session.status === 'signed-out' && signInOpen) return <SignInScreen />;
  if (session.status === 'signed-out' && NEEDS_PRACTITIONER.has(screen)) {
    // Production: nothing in the practitioner's name without authentication. Sandbox: the test services stay
    // reachable (test mailboxes have test passwords), with a reminder.
    if (sandbox === false) return <SignInScreen reason="Cet écran agit en votre nom auprès des services de santé : connectez-vous." />;
    return (
      <>
        <div className="notice notice-info signin-reminder" role="status">
          <p className="row">
            <span>Vous n’êtes pas connecté : en bac à sable, les services de test restent accessibles sans authentification.</span>
            <button type="button" className="button button-secondary" onClick={() => openSignIn(true)}>
              S’identifier
            </button>
          </p>
        </div>
        {children}
      </>
    );
  }
  return <>{children}</>;
}
