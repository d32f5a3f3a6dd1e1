import { useEffect, type ReactNode } from 'react';
import { lps } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import type { ScreenId } from '../../store/app';
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
 * Between the navigation and the screens: the sign-in screen when the user asks for it or opens a screen that
 * needs a practitioner; the choice of activity right after sign-in when there are several.
 */
export function IdentityGate({ screen, children }: { screen: ScreenId; children: ReactNode }) {
  useIdentityEvents();
  const { session, sessionError, signInOpen, choosingActivity, loadSession, openSignIn } = useIdentity();
  useEffect(() => openSignIn(false), [screen, openSignIn]); // another screen chosen: leave the sign-in page
  if (sessionError) return <ErrorNotice error={sessionError} onRetry={() => void loadSession()} />;
  if (!session) return <>{children}</>;
  if (session.status === 'signed-in' && (session.needsActivity || choosingActivity)) return <ActivityChoice />;
  if (session.status === 'signed-out' && (signInOpen || NEEDS_PRACTITIONER.has(screen))) {
    return <SignInScreen reason={signInOpen ? undefined : 'Cet écran agit en votre nom auprès des services de santé : connectez-vous.'} />;
  }
  return <>{children}</>;
}
