import { z } from 'zod';
import type { MethodDef } from './types';

export const PinState = z.enum(['ok', 'count-low', 'final-try', 'locked']);

export const CardHolder = z.object({
  nationalId: z.string(),
  idType: z.string(),
  idTypeLabel: z.string().optional(),
  localId: z.string(),
  lastName: z.string().optional(),
  firstName: z.string().optional(),
  professionCode: z.string().optional(),
  profession: z.string().optional(),
  structureName: z.string().optional(),
  structureId: z.string().optional(),
});

export const CardStatus = z.object({
  present: z.boolean(),
  module: z.string(),
  slotDescription: z.string().optional(),
  tokenLabel: z.string().optional(),
  serial: z.string().optional(),
  holder: CardHolder.optional(),
  pinState: PinState.optional(),
  remainingTries: z.number().int().optional(),
  /** French warning to show next to the PIN field (count low, final try, locked). */
  pinWarning: z.string().optional(),
  loggedIn: z.boolean(),
});
export type CardStatus = z.infer<typeof CardStatus>;

export const PscActivity = z.object({
  structureId: z.string().optional(),
  sectorCode: z.string().optional(),
  structureName: z.string().optional(),
  finess: z.string().optional(),
  siret: z.string().optional(),
  practiceMode: z.string().optional(),
});

export const PscSession = z.object({
  identity: z.object({
    nationalId: z.string(),
    idType: z.string().optional(),
    idTypeLabel: z.string().optional(),
    lastName: z.string().optional(),
    firstName: z.string().optional(),
    email: z.string().optional(),
    exercices: z.array(
      z.object({
        professionCode: z.string().optional(),
        categoryCode: z.string().optional(),
        specialtyCode: z.string().optional(),
        specialtyType: z.string().optional(),
        lastName: z.string().optional(),
        firstName: z.string().optional(),
        activities: z.array(PscActivity),
      }),
    ),
  }),
  accessTokenExpiresAt: z.string(),
  refreshTokenExpiresAt: z.string().optional(),
  authenticatedAt: z.string(),
  acr: z.string().optional(),
  restored: z.boolean().optional(),
});
export type PscSession = z.infer<typeof PscSession>;

/** One place where the practitioner works (PSC activity, or the structure written on the card). */
export const SessionActivity = z.object({
  id: z.string(),
  /** French label: structure name (or id), sector, profession. */
  label: z.string(),
  structureId: z.string().optional(),
  structureName: z.string().optional(),
  sectorCode: z.string().optional(),
  professionCode: z.string().optional(),
});
export type SessionActivity = z.infer<typeof SessionActivity>;

/**
 * Who uses the app: nobody (signed-out), a practitioner authenticated by CPS card or Pro Santé Connect
 * (signed-in), or a card session whose card was removed (locked: privileged actions are refused in main until
 * the PIN is entered again on the same card).
 */
export const IdentitySession = z.object({
  status: z.enum(['signed-out', 'signed-in', 'locked']),
  method: z.enum(['card', 'psc']).optional(),
  practitioner: z
    .object({
      nationalId: z.string(),
      idTypeLabel: z.string().optional(),
      lastName: z.string().optional(),
      firstName: z.string().optional(),
      professionCode: z.string().optional(),
      profession: z.string().optional(),
    })
    .optional(),
  activities: z.array(SessionActivity),
  /** The chosen activity (set automatically when there is only one). */
  activityId: z.string().optional(),
  /** Several activities and none chosen yet: the UI asks. */
  needsActivity: z.boolean(),
  since: z.string().optional(),
  /** PSC session restored at start-up from the OS-protected vault. */
  restored: z.boolean().optional(),
});
export type IdentitySession = z.infer<typeof IdentitySession>;

export const identityMethods = {
  'identity.card.status': {
    summary: 'CPS card: present or not, holder identity, PIN state (remaining tries), logged in or not.',
    input: z.object({}).strict(),
    output: CardStatus,
  },
  'identity.card.login': {
    summary: 'One PIN attempt on the CPS card (never retried); a wrong PIN fails with CARD_PIN_INCORRECT and the remaining tries.',
    input: z.object({ pin: z.string().min(1).max(16) }).strict(),
    output: CardStatus,
  },
  'identity.card.logout': {
    summary: 'Ends the CPS card session.',
    input: z.object({}).strict(),
    output: CardStatus,
  },
  'identity.psc.login': {
    summary: 'Pro Santé Connect login in the system browser (authorization code + PKCE, loopback redirect).',
    input: z.object({}).strict(),
    output: PscSession,
  },
  'identity.psc.logout': {
    summary: 'Pro Santé Connect logout: tokens revoked and wiped, PSC session ended.',
    input: z.object({}).strict(),
    output: z.object({ connected: z.literal(false) }),
  },
  'identity.psc.session': {
    summary: 'The current Pro Santé Connect session (identity, expiry), never the tokens.',
    input: z.object({}).strict(),
    output: z.object({ connected: z.boolean(), session: PscSession.optional() }),
  },
  'identity.session.get': {
    summary: 'Who is signed in (card or PSC), the activities and the chosen one, or locked / signed out.',
    input: z.object({}).strict(),
    output: IdentitySession,
  },
  'identity.session.selectActivity': {
    summary: 'Chooses the structure / activity the practitioner works for in this session.',
    input: z.object({ activityId: z.string().min(1).max(64) }).strict(),
    output: IdentitySession,
  },
  'identity.session.signOut': {
    summary: 'Signs out: card session closed, or PSC tokens revoked and the PSC session ended.',
    input: z.object({}).strict(),
    output: IdentitySession,
  },
} satisfies Record<string, MethodDef>;

/** Events pushed to the renderer (registered in events.ts). */
export const CardEvent = z.object({ kind: z.enum(['inserted', 'removed', 'changed']), status: CardStatus });
export const PscEvent = z.object({ connected: z.boolean(), reason: z.enum(['login', 'refresh', 'logout', 'expired']).optional(), session: PscSession.optional() });
/** The session changed (signed in, activity chosen, locked, signed out). */
export const SessionEvent = IdentitySession;
/**
 * Browser harness only: main asks the renderer to open a URL in a new tab (the "system browser" of a user who
 * runs the app in a browser). Electron and the CLI open the system browser themselves.
 */
export const BrowserEvent = z.object({ url: z.string().url(), purpose: z.enum(['psc-login', 'psc-logout']) });
