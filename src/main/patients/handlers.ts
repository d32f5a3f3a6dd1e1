import type { Core } from '../core/app-core';
import { PatientRepository } from './repository';

export function registerPatientsHandlers(core: Core): void {
  const repo = new PatientRepository(core.db);
  core.registry
    .register('patients.list', ({ text, limit }) => repo.list(text, limit))
    .register('patients.get', ({ id }) => repo.get(id))
    .register('patients.upsert', (input, ctx) => {
      const p = repo.upsert(input);
      core.audit.append({ actor: 'utilisateur', action: 'patients.upsert', subject: `patient:${p.id}`, outcome: 'success', details: { transport: ctx.transport, insQualified: p.insQualified } });
      return p;
    });
}
