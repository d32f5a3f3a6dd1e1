/**
 * Composition root of the headless core: every capability registers its handlers here.
 */
import { registerAuditHandlers } from './audit/handlers';
import { createCoreBase, type Core, type CoreOptions } from './core/app-core';
import { registerCoreHandlers } from './core/handlers';
import { registerSandboxHandlers } from './sandbox/handlers';
import { registerDmpHandlers } from './dmp/handlers';
import { registerPatientsHandlers } from './patients/handlers';
import { registerMssanteHandlers } from './mssante/handlers';
import { registerInboxHandlers } from './mssante/inbox-handlers';
import { registerIdentityHandlers } from './identity/handlers';
import { registerConfigHandlers } from './config/handlers';
import { registerImagingHandlers } from './imaging/handlers';
import { registerSharingHandlers } from './sharing/handlers';

export function registerAllHandlers(core: Core): void {
  registerCoreHandlers(core);
  registerAuditHandlers(core);
  registerSandboxHandlers(core);
  registerDmpHandlers(core);
  registerPatientsHandlers(core);
  registerMssanteHandlers(core);
  registerInboxHandlers(core);
  registerIdentityHandlers(core);
  registerConfigHandlers(core);
  registerImagingHandlers(core);
  registerSharingHandlers(core);
}

/** The core with every capability wired: what Electron, the harness and the CLI start. */
export function createCore(opts: CoreOptions): Core {
  const core = createCoreBase(opts);
  registerAllHandlers(core);
  return core;
}
