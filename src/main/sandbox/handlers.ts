import type { Core } from '../core/app-core';

export function registerSandboxHandlers(core: Core): void {
  core.registry.register('sandbox.status', () => core.sandbox.status());
}
