import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../../src/main/core/app-core';
import { createCore } from '../../../src/main/handlers';
import { imagingCacheKey } from '../../../src/main/imaging/cache-key';
import { HAS_SHARED, sharedPath } from '../../support/shared';
import { tempDir } from '../../support/tmp';

describe.skipIf(!HAS_SHARED)('imaging handlers (no server): local KOS sessions, stream scheme, cache key', () => {
  const tmp = tempDir('lps-imaging-handlers-');
  let core: Core;
  beforeAll(() => {
    core = createCore({ dataDir: tmp.dir, runtime: 'node' });
  });
  afterAll(async () => {
    await core.close();
    tmp.cleanup();
  });
  const call = (m: string, input: unknown) => core.registry.invoke(m, input, { transport: 'test' });

  it('opens a local KOS (path or uploaded bytes) into a session, audits it, and closes it', async () => {
    const file = sharedPath('fixtures', 'kos', 'nist-IDS-DEPT001-a.dcm');
    const r = await call('imaging.open', { path: file });
    expect(r.ok).toBe(true);
    const s = (r as { value: { handle: string; streamPath: string; source: string; series: { reachable: boolean; instances: unknown[] }[]; instanceCount: number } }).value;
    expect(s.source).toBe('file');
    expect(s.streamPath).toBe(`wado/${s.handle}`);
    expect(s.series.length).toBeGreaterThan(0);
    expect(s.series.reduce((n, x) => n + x.instances.length, 0)).toBe(s.instanceCount);
    const viaBytes = await call('imaging.open', { kosBase64: fs.readFileSync(file).toString('base64') });
    expect(viaBytes.ok).toBe(true);
    expect(await call('imaging.close', { handle: s.handle })).toEqual({ ok: true, value: { closed: true } });
    expect(await call('imaging.close', { handle: s.handle })).toEqual({ ok: true, value: { closed: false } });
  });

  it('refuses bad input with clear errors: two sources, a missing file, a non-KOS file, an unknown session', async () => {
    expect(await call('imaging.open', { path: '/x', kosBase64: 'AA==' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await call('imaging.open', { kosUniqueId: '1.2.3' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await call('imaging.open', { path: `${tmp.dir}/absent.dcm` })).toMatchObject({ ok: false, error: { code: 'FILE_NOT_FOUND' } });
    expect(await call('imaging.open', { kosBase64: Buffer.from('not dicom at all').toString('base64') })).toMatchObject({ ok: false, error: { code: expect.stringMatching(/^IMAGING_/) } });
    expect(await call('imaging.prefetch', { handle: 'nope-nope-nope', seriesInstanceUid: '1.2' })).toMatchObject({ ok: false, error: { code: 'IMAGING_STREAM_CLOSED' } });
  });

  it('registers the lps-imaging stream: closed handles answer 410; only the app origin gets CORS headers', async () => {
    const stream = core.streams.get('lps-imaging')!;
    const url = 'lps-imaging://wado/abcdefghijklmnop/studies/1.2/series/3.4/metadata';
    const fromApp = await stream(new Request(url, { headers: { origin: 'app://lps' } }));
    expect(fromApp.status).toBe(410);
    expect(fromApp.headers.get('access-control-allow-origin')).toBe('app://lps');
    const fromElsewhere = await stream(new Request(url, { headers: { origin: 'https://example.org' } }));
    expect(fromElsewhere.headers.get('access-control-allow-origin')).toBeNull();
    expect((await stream(new Request('lps-imaging://wado/../../etc/passwd'))).status).toBe(404);
  });

  it('derives a stable 256-bit cache key, distinct from the data key material, kept across restarts', async () => {
    const a = imagingCacheKey(core);
    expect(a).toHaveLength(32);
    expect(imagingCacheKey(core).equals(a)).toBe(true);
    const again = createCore({ dataDir: tmp.dir, runtime: 'node' });
    try {
      expect(imagingCacheKey(again).equals(a)).toBe(true);
    } finally {
      await again.close();
    }
    const other = tempDir('lps-imaging-key-');
    const c2 = createCore({ dataDir: other.dir, runtime: 'node' });
    try {
      expect(imagingCacheKey(c2).equals(a)).toBe(false);
    } finally {
      await c2.close();
      other.cleanup();
    }
  });
});
