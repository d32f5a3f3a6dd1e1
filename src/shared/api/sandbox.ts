import { z } from 'zod';
import type { MethodDef } from './types';

export const SandboxServiceStatus = z.object({
  id: z.string(),
  title: z.string(),
  running: z.boolean(),
  url: z.string().optional(),
  ports: z.record(z.string(), z.number().int()),
  pids: z.array(z.number().int()),
});

/**
 * The sandbox profile as written by `lps sandbox up`. Capabilities add their own sections
 * (accounts, patients, card, psc, …); unknown sections are kept.
 */
export const SandboxProfile = z
  .object({
    version: z.literal(1),
    running: z.boolean(),
    startedAt: z.string().optional(),
    runDir: z.string(),
    services: z.record(z.string(), SandboxServiceStatus),
  })
  .loose();
export type SandboxProfile = z.infer<typeof SandboxProfile>;

export const sandboxMethods = {
  'sandbox.status': {
    summary: 'The sandbox profile (services, endpoints, test accounts) and whether it runs.',
    input: z.object({}).strict(),
    output: SandboxProfile,
  },
} satisfies Record<string, MethodDef>;
