import { z } from 'zod';
import { AuditEntry } from './audit';
import { BrowserEvent, CardEvent, PscEvent, SessionEvent } from './identity';

/** Event streams pushed from main to the renderer. */
export const events = {
  'audit.appended': AuditEntry,
  'notification': z.object({
    level: z.enum(['info', 'success', 'warning', 'error']),
    title: z.string(),
    body: z.string().optional(),
  }),
  /** Progress of long work (sync, fetch, publish…): `total` absent while unknown; `done` true at the end. */
  'task.progress': z.object({
    taskId: z.string(),
    label: z.string(),
    current: z.number(),
    total: z.number().optional(),
    finished: z.boolean(),
    error: z.object({ code: z.string(), message: z.string(), detail: z.string().optional() }).optional(),
  }),
  /** CPS card inserted / removed / state changed (login, logout, PIN state). */
  'identity.card': CardEvent,
  /** Pro Santé Connect session started, refreshed or ended. */
  'identity.psc': PscEvent,
  /** Identity session signed in / activity chosen / locked (card removed) / signed out. */
  'identity.session': SessionEvent,
  /** Browser harness: open this URL in a new tab (PSC login / logout pages). */
  'identity.browser': BrowserEvent,
} as const;

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>;
