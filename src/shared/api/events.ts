import { z } from 'zod';
import { AuditEntry } from './audit';

/** Event streams pushed from main to the renderer. */
export const events = {
  'audit.appended': AuditEntry,
  'notification': z.object({
    level: z.enum(['info', 'success', 'warning', 'error']),
    title: z.string(),
    body: z.string().optional(),
  }),
} as const;

export type EventName = keyof typeof events;
export type EventPayload<E extends EventName> = z.infer<(typeof events)[E]>;
