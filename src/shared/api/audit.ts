import { z } from 'zod';
import type { MethodDef } from './types';

export const AuditOutcome = z.enum(['success', 'failure', 'info']);

export const AuditEntry = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.string().nullable(),
  outcome: AuditOutcome,
  details: z.record(z.string(), z.unknown()),
  hash: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditFilter = z
  .object({
    action: z.string().max(200).optional(),
    actor: z.string().max(200).optional(),
    text: z.string().max(200).optional(),
    outcome: AuditOutcome.optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.number().int().min(1).max(1000).default(100),
    offset: z.number().int().min(0).default(0),
  })
  .strict();
export type AuditFilter = z.input<typeof AuditFilter>;

export const AuditVerifyResult = z.object({
  ok: z.boolean(),
  rows: z.number().int(),
  /** First row whose content or chain link does not match, when not ok. */
  brokenAt: z.number().int().optional(),
  reason: z.string().optional(),
});
export type AuditVerifyResult = z.infer<typeof AuditVerifyResult>;

export const auditMethods = {
  'audit.list': {
    summary: 'Audit trail rows, newest first, filtered.',
    input: AuditFilter,
    output: z.object({ total: z.number().int(), entries: z.array(AuditEntry) }),
  },
  'audit.verify': {
    summary: 'Recomputes the hash chain of the audit trail.',
    input: z.object({}).strict(),
    output: AuditVerifyResult,
  },
  'audit.exportCsv': {
    summary: 'The filtered audit trail as CSV text (UTF-8, semicolon separated, for French spreadsheets).',
    input: AuditFilter,
    output: z.object({ filename: z.string(), csv: z.string() }),
  },
} satisfies Record<string, MethodDef>;
