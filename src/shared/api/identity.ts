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
});
export type PscSession = z.infer<typeof PscSession>;

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
} satisfies Record<string, MethodDef>;

/** Events pushed to the renderer (registered in events.ts). */
export const CardEvent = z.object({ kind: z.enum(['inserted', 'removed', 'changed']), status: CardStatus });
export const PscEvent = z.object({ connected: z.boolean(), reason: z.enum(['login', 'refresh', 'logout', 'expired']).optional(), session: PscSession.optional() });
