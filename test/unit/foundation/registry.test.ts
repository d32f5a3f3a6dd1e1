import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Core } from '../../../src/main/core/app-core';
import { createCore } from '../../../src/main/handlers';
import { api } from '../../../src/shared/api';
import { tempDir } from '../../support/tmp';

describe('handler registry', () => {
  let core: Core;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
    core = createCore({ dataDir: tmp.dir, runtime: 'node' });
  });
  afterEach(async () => {
    await core.close();
    tmp.cleanup();
  });

  it('serves every method of the contract', () => {
    const missing = Object.keys(api).filter((m) => !core.registry.has(m as keyof typeof api));
    expect(missing).toEqual([]);
  });

  it('round-trips a call', async () => {
    const r = await core.registry.invoke('app.echo', { text: 'Bonjour' }, { transport: 'test' });
    expect(r).toMatchObject({ ok: true, value: { text: 'Bonjour' } });
  });

  it('refuses unknown methods and invalid input with French messages and detail', async () => {
    const unknown = await core.registry.invoke('fs.readFile', { path: '/etc/passwd' }, { transport: 'test' });
    expect(unknown).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    const proto = await core.registry.invoke('__proto__', {}, { transport: 'test' });
    expect(proto).toMatchObject({ ok: false, error: { code: 'UNKNOWN_METHOD' } });
    const bad = await core.registry.invoke('app.echo', { text: 42 }, { transport: 'test' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.error.code).toBe('INVALID_INPUT');
      expect(bad.error.message).toMatch(/demande est invalide/);
      expect(bad.error.detail).toMatch(/text/);
    }
    const extra = await core.registry.invoke('app.info', { sneaky: true }, { transport: 'test' });
    expect(extra).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('consults guards before any handler, whatever the transport, with the French message', async () => {
    const { AppError } = await import('../../../src/main/core/errors');
    const seen: string[] = [];
    core.registry.addGuard((method, ctx) => {
      seen.push(`${ctx.transport}:${method}`);
      if (method === 'app.echo') throw new AppError('SESSION_LOCKED', 'Session verrouillée : réinsérez votre carte.', 'locked');
    });
    expect(await core.registry.invoke('app.echo', { text: 'x' }, { transport: 'ipc' })).toEqual({
      ok: false,
      error: { code: 'SESSION_LOCKED', message: 'Session verrouillée : réinsérez votre carte.', detail: 'locked' },
    });
    expect(await core.registry.invoke('app.info', {}, { transport: 'harness' })).toMatchObject({ ok: true });
    expect(seen).toEqual(['ipc:app.echo', 'harness:app.info']);
  });

  it('reports the sandbox profile as the default when no production configuration exists', async () => {
    const p = await core.registry.call('profile.get', {});
    expect(p).toMatchObject({ active: 'sandbox', reason: 'default-no-production', productionConfigured: false });
    await expect(core.registry.call('profile.choose', { profile: 'production' })).rejects.toMatchObject({ code: 'PRODUCTION_NOT_CONFIGURED' });
    core.profiles.saveProduction({ configuredAt: new Date().toISOString() });
    expect(await core.registry.call('profile.choose', { profile: 'production' })).toMatchObject({ active: 'production', reason: 'chosen' });
    const info = await core.registry.call('app.info', {});
    expect(info.profile).toBe('production');
  });

  it('pushes audit rows as events', async () => {
    const seen: number[] = [];
    core.events.on('audit.appended', (e) => seen.push(e.id));
    await core.registry.call('profile.choose', { profile: 'sandbox' });
    expect(seen).toEqual([1]);
  });
});
