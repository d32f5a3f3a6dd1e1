import type { Core } from './app-core';
import { productInfo } from './version';

/** Sent in X-MSS-NIL until the homologation assigns ours; configurable in the settings. */
export const DEFAULT_NIL = 'LPS-COMPANION-DEV';

export function registerCoreHandlers(core: Core): void {
  core.registry
    .register('app.info', () => {
      const info = productInfo();
      return {
        name: info.name,
        version: info.version,
        runtime: core.runtime,
        versions: { app: info.version, ...core.versions },
        dataDir: core.dataDir,
        profile: core.profiles.state(core.sandbox.isRunning()).active,
        nil: core.settings.get<string>('mssante.nil', DEFAULT_NIL),
      };
    })
    .register('app.echo', ({ text }) => ({ text, at: new Date().toISOString() }))
    .register('profile.get', () => core.profiles.state(core.sandbox.isRunning()))
    .register('profile.choose', ({ profile }, ctx) => {
      const state = core.profiles.choose(profile, core.sandbox.isRunning());
      core.audit.append({ actor: 'utilisateur', action: 'settings.profile.choose', subject: profile, outcome: 'success', details: { transport: ctx.transport } });
      return state;
    });
}
