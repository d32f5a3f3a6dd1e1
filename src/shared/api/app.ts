import { z } from 'zod';
import type { MethodDef } from './types';

export const ProfileKind = z.enum(['sandbox', 'production']);
export type ProfileKind = z.infer<typeof ProfileKind>;

export const AppInfo = z.object({
  name: z.string(),
  version: z.string(),
  runtime: z.enum(['electron', 'harness', 'node']),
  versions: z.record(z.string(), z.string()),
  dataDir: z.string(),
  profile: ProfileKind,
  /** Identifier sent in X-MSS-NIL (software identifier assigned at homologation). */
  nil: z.string(),
});
export type AppInfo = z.infer<typeof AppInfo>;

export const appMethods = {
  'app.info': {
    summary: 'Application name, versions, data directory and active profile.',
    input: z.object({}).strict(),
    output: AppInfo,
  },
  'app.echo': {
    summary: 'Round trip used by diagnostics: returns the text with the server time.',
    input: z.object({ text: z.string().max(10_000) }).strict(),
    output: z.object({ text: z.string(), at: z.string() }),
  },
} satisfies Record<string, MethodDef>;
