import { z } from 'zod';
import type { MethodDef } from './types';
import { ProfileKind } from './app';

export const ProfileState = z.object({
  active: ProfileKind,
  /** Why this profile is active: chosen by the user, or the sandbox by default. */
  reason: z.enum(['chosen', 'default-no-production']),
  productionConfigured: z.boolean(),
  sandboxRunning: z.boolean(),
});
export type ProfileState = z.infer<typeof ProfileState>;

export const settingsMethods = {
  'profile.get': {
    summary: 'Which profile (sandbox / production) is active and why.',
    input: z.object({}).strict(),
    output: ProfileState,
  },
  'profile.choose': {
    summary: 'Chooses the active profile; production requires a production configuration.',
    input: z.object({ profile: ProfileKind }).strict(),
    output: ProfileState,
  },
} satisfies Record<string, MethodDef>;
