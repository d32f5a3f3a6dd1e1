import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../../src/main/core/app-core';
import { createCore } from '../../../src/main/handlers';
import { startHarness, type HarnessServer } from '../../../src/harness/server';
import { RENDERER_CSP } from '../../../src/shared/security';
import { ensureBuilt, OUT } from '../../support/build';
import { tempDir } from '../../support/tmp';

/** Raw request (fetch forbids setting Host). */
function request(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('browser harness', () => {
  const tmp = tempDir();
  let core: Core;
  let harness: HarnessServer;
  let cookie: string;

  beforeAll(async () => {
    ensureBuilt();
    core = createCore({ dataDir: tmp.dir, runtime: 'harness' });
    // Replace the imaging capability's handler by a probe: this checks the harness route, not imaging.
    core.streams.set('lps-imaging', async (r) => {
      const u = new URL(r.url);
      if (u.host !== 'wado') return new Response('no', { status: 404 });
      return new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(`path=${u.pathname};q=${u.search};accept=${r.headers.get('accept')}`)); c.close(); } }), { headers: { 'content-type': 'application/dicom' } });
    });
    harness = await startHarness({ core, rendererDir: `${OUT}/renderer` });
    const first = await request(harness.url);
    expect(first.status).toBe(303);
    cookie = String(first.headers['set-cookie']).split(';')[0]!;
  });
  afterAll(async () => {
    await harness.close();
    await core.close();
    tmp.cleanup();
  });

  it('requires the per-run secret for everything', async () => {
    expect((await request(`${harness.origin}/`)).status).toBe(401);
    expect((await request(`${harness.origin}/?token=wrong`)).status).toBe(401);
    const api = await request(`${harness.origin}/__lps/invoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'app.echo', input: { text: 'x' } }),
    });
    expect(api.status).toBe(401);
  });

  it('keeps the secret in an HttpOnly, SameSite=Strict cookie', async () => {
    const first = await request(harness.url);
    expect(String(first.headers['set-cookie'])).toMatch(/HttpOnly; SameSite=Strict/);
    expect(first.headers.location).toBe('/');
  });

  it('serves the renderer with the CSP and the bridge injected before the app', async () => {
    const page = await request(`${harness.origin}/`, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(RENDERER_CSP);
    expect(page.body.indexOf('/__lps/bridge.js')).toBeLessThan(page.body.indexOf('type="module"'));
    const bridge = await request(`${harness.origin}/__lps/bridge.js`, { headers: { cookie } });
    expect(bridge.body).toContain("defineProperty(window, 'lps'");
  });

  it('dispatches to the same registry, validating input', async () => {
    const call = (method: string, input: unknown) =>
      request(`${harness.origin}/__lps/invoke`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ method, input }),
      }).then((r) => JSON.parse(r.body));
    expect(await call('app.echo', { text: 'bonjour' })).toMatchObject({ ok: true, value: { text: 'bonjour' } });
    expect(await call('app.info', {})).toMatchObject({ ok: true, value: { runtime: 'harness' } });
    expect(await call('app.echo', {})).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('refuses other host names (DNS rebinding) and cross-origin calls', async () => {
    const port = new URL(harness.origin).port;
    expect((await request(`${harness.origin}/`, { headers: { cookie, host: `evil.example:${port}` } })).status).toBe(421);
    const cross = await request(`${harness.origin}/__lps/invoke`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', origin: 'http://evil.example' },
      body: '{"method":"app.echo","input":{"text":"x"}}',
    });
    expect(cross.status).toBe(403);
  });

  it('serves streaming schemes under /__lps/stream/, behind the same secret', async () => {
    const ok = await request(`${harness.origin}/__lps/stream/lps-imaging/wado/h1/series/2?frame=1`, { headers: { cookie, accept: 'multipart/related' } });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/dicom');
    expect(ok.body).toBe('path=/h1/series/2;q=?frame=1;accept=multipart/related');
    expect((await request(`${harness.origin}/__lps/stream/lps-imaging/other/x`, { headers: { cookie } })).status).toBe(404);
    expect((await request(`${harness.origin}/__lps/stream/unknown/x`, { headers: { cookie } })).status).toBe(404);
    expect((await request(`${harness.origin}/__lps/stream/lps-imaging/wado/h1`)).status).toBe(401);
  });

  it('refuses paths outside the renderer', async () => {
    expect((await request(`${harness.origin}/..%2f..%2fpackage.json`, { headers: { cookie } })).status).toBe(404);
  });
});
