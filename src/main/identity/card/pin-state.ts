import * as pkcs11 from 'pkcs11js';

export type PinState = 'ok' | 'count-low' | 'final-try' | 'locked';

/** A CPS allows 3 PIN tries before locking (then the PUK unlocks it). */
export const CPS_MAX_PIN_TRIES = 3;

/**
 * The token's PIN state from its CK_TOKEN_INFO flags. PKCS#11 gives no counter, only these flags: the
 * remaining tries are derived from them and the card's try limit (3 for a CPS): count-low = at least one
 * failure (max − 1 left), final-try = 1 left, locked = 0.
 */
export function pinStateFromFlags(flags: number, maxTries = CPS_MAX_PIN_TRIES): { pinState: PinState; remainingTries: number } {
  if (flags & pkcs11.CKF_USER_PIN_LOCKED) return { pinState: 'locked', remainingTries: 0 };
  if (flags & pkcs11.CKF_USER_PIN_FINAL_TRY) return { pinState: 'final-try', remainingTries: 1 };
  if (flags & pkcs11.CKF_USER_PIN_COUNT_LOW) return { pinState: 'count-low', remainingTries: Math.max(1, maxTries - 1) };
  return { pinState: 'ok', remainingTries: maxTries };
}

/** The French warning shown next to the PIN field. */
export function pinStateMessage(state: PinState, remaining: number): string | undefined {
  switch (state) {
    case 'locked':
      return 'Carte bloquée : le code PIN a été saisi trop de fois. Débloquez-la avec le code PUK (outil de la carte CPS).';
    case 'final-try':
      return 'Attention : dernier essai avant blocage de la carte.';
    case 'count-low':
      return `Attention : code PIN déjà refusé, il reste ${remaining} essai(s) avant blocage.`;
    default:
      return undefined;
  }
}
