import type { Core } from '../core/app-core';
import { auditToCsv } from './audit-trail';

export function registerAuditHandlers(core: Core): void {
  core.registry
    .register('audit.list', (filter) => core.audit.list(filter))
    .register('audit.verify', () => core.audit.verify())
    .register('audit.exportCsv', (filter) => {
      const { entries } = core.audit.list({ ...filter, limit: 1000 });
      const stamp = new Date().toISOString().slice(0, 10);
      return { filename: `traces-${stamp}.csv`, csv: auditToCsv(entries) };
    });
}
