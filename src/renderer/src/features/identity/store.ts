import { create } from 'zustand';
import type { CardStatus, IdentitySession } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';

/**
 * The practitioner's session as main reports it (`identity.session` events) and the live card reader state
 * (`identity.card` events). Never holds a PIN or a token: the PIN lives in the sign-in form only, the tokens in
 * main only.
 */
interface IdentityState {
  session?: IdentitySession;
  sessionError?: ApiError;
  card?: CardStatus;
  cardError?: ApiError;
  /** The user asked for the sign-in screen (header button). */
  signInOpen: boolean;
  /** The user asked to change activity. */
  choosingActivity: boolean;
  /** Browser harness: the last PSC page main asked us to open (link shown if a pop-up was blocked). */
  browserUrl?: string;
  loadSession(): Promise<void>;
  refreshCard(): Promise<void>;
  setSession(s: IdentitySession): void;
  setCard(c: CardStatus): void;
  setBrowserUrl(url: string | undefined): void;
  openSignIn(open: boolean): void;
  chooseActivity(open: boolean): void;
}

export const useIdentity = create<IdentityState>((set) => ({
  signInOpen: false,
  choosingActivity: false,
  async loadSession() {
    try {
      const session = await lps.invoke('identity.session.get', {});
      set({ session, sessionError: undefined });
    } catch (err) {
      set({ sessionError: toApiError(err) });
    }
  },
  async refreshCard() {
    try {
      const card = await lps.invoke('identity.card.status', {});
      set({ card, cardError: undefined });
    } catch (err) {
      set({ card: undefined, cardError: toApiError(err) });
    }
  },
  setSession: (session) => set((s) => ({ session, signInOpen: session.status === 'signed-in' ? false : s.signInOpen, choosingActivity: session.status === 'signed-in' ? s.choosingActivity : false })),
  setCard: (card) => set({ card, cardError: undefined }),
  setBrowserUrl: (browserUrl) => set({ browserUrl }),
  openSignIn: (signInOpen) => set({ signInOpen }),
  chooseActivity: (choosingActivity) => set({ choosingActivity }),
}));

/** "Dr Claire DURAND" for a physician, "Claire DURAND" otherwise. */
export function practitionerName(p: { firstName?: string; lastName?: string; professionCode?: string; nationalId?: string } | undefined): string {
  if (!p) return '';
  const name = [p.firstName, p.lastName].filter(Boolean).join(' ') || p.nationalId || '';
  return p.professionCode === '10' || p.professionCode === '40' ? `Dr ${name}` : name;
}
