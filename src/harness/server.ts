/**
 * The browser harness: serves the built renderer on loopback with the same handler registry as the
 * Electron IPC, behind a per-run secret. For development and for e2e tests on machines without the
 * Electron runtime. Never packaged (electron-builder only ships `out/`).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import ts from 'typescript';
import type { Core } from '../main/core/app-core';
import { contentType, resolveRendererFile } from '../main/electron/renderer-files';
import { RENDERER_CSP } from '../shared/security';

const COOKIE = 'lps_harness';
const MAX_BODY = 64 * 1024 * 1024;

export interface HarnessServer {
  /** Open this URL once: it carries the secret, which is then kept in an HttpOnly cookie. */
  url: string;
  origin: string;
  token: string;
  close(): Promise<void>;
}

export interface HarnessOptions {
  core: Core;
  rendererDir: string;
  host?: string;
  port?: number;
}

function bridgeScript(): string {
  const src = fs.readFileSync(path.join(__dirname, 'bridge.ts'), 'utf8');
  return ts.transpileModule(src, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.None } }).outputText;
}

function sameSecret(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieOf(req: http.IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) return v.join('=');
  }
  return undefined;
}

const SECURITY_HEADERS = {
  'content-security-policy': RENDERER_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export async function startHarness(opts: HarnessOptions): Promise<HarnessServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = randomBytes(32).toString('base64url');
  const bridge = bridgeScript();
  const clients = new Set<http.ServerResponse>();
  let port = 0;

  const unsubscribe = opts.core.events.onAny((name, payload) => {
    const frame = `event: lps\ndata: ${JSON.stringify({ name, payload })}\n\n`;
    for (const c of clients) c.write(frame);
  });

  const send = (res: http.ServerResponse, status: number, body: string | Buffer, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type });
    res.end(body);
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      // DNS-rebinding guard: only our own loopback host names.
      const allowedHosts = [`${host}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`];
      if (!allowedHosts.includes(req.headers.host ?? '')) return send(res, 421, 'Misdirected request');
      const url = new URL(req.url ?? '/', `http://${req.headers.host}`);

      // First visit with the secret in the URL: keep it in an HttpOnly cookie and drop it from the address bar.
      const given = url.searchParams.get('token');
      if (given !== null) {
        if (!sameSecret(given, token)) return send(res, 401, 'Jeton invalide.');
        url.searchParams.delete('token');
        res.writeHead(303, {
          ...SECURITY_HEADERS,
          'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`,
          location: url.pathname + (url.search || ''),
        });
        return res.end();
      }
      if (!sameSecret(cookieOf(req), token) && !sameSecret(req.headers['x-lps-token'] as string | undefined, token)) {
        return send(res, 401, "Accès refusé : ouvrez l'adresse complète (avec son jeton) affichée au démarrage du banc d'essai.");
      }

      if (url.pathname === '/__lps/invoke') {
        if (req.method !== 'POST') return send(res, 405, 'POST only');
        const origin = req.headers.origin;
        if (origin && origin !== `http://${req.headers.host}`) return send(res, 403, 'Cross-origin call refused');
        if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return send(res, 415, 'JSON only');
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of req) {
          size += (chunk as Buffer).length;
          if (size > MAX_BODY) return send(res, 413, 'Request too large');
          chunks.push(chunk as Buffer);
        }
        let body: { method?: unknown; input?: unknown };
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
        } catch {
          return send(res, 400, 'Invalid JSON');
        }
        const result = await opts.core.registry.invoke(body.method, body.input, { transport: 'harness' });
        return send(res, 200, JSON.stringify(result), 'application/json');
      }
      if (url.pathname === '/__lps/events') {
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
        res.write(': connected\n\n');
        clients.add(res);
        req.on('close', () => clients.delete(res));
        return;
      }
      if (url.pathname === '/__lps/bridge.js') return send(res, 200, bridge, 'text/javascript; charset=utf-8');
      const stream = /^\/__lps\/stream\/([a-z-]+)\/(.*)$/.exec(url.pathname);
      if (stream) {
        const handler = opts.core.streams.get(stream[1]!);
        if (!handler) return send(res, 404, 'Unknown stream');
        const headers = new Headers();
        for (const h of ['accept', 'range']) if (typeof req.headers[h] === 'string') headers.set(h, req.headers[h] as string);
        const response = await handler(new Request(`${stream[1]}://${stream[2]}${url.search}`, { method: req.method, headers }));
        const out: Record<string, string> = { ...SECURITY_HEADERS };
        response.headers.forEach((v, k) => (out[k] = v));
        res.writeHead(response.status, out);
        if (!response.body || req.method === 'HEAD') return res.end();
        const reader = response.body.getReader();
        req.on('close', () => void reader.cancel().catch(() => {}));
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          if (!res.write(value)) await new Promise((r) => res.once('drain', r));
        }
        return res.end();
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'Method not allowed');

      const file = resolveRendererFile(opts.rendererDir, url.pathname);
      if (!file) return send(res, 404, 'Introuvable');
      let content: Buffer = fs.readFileSync(file);
      if (path.basename(file) === 'index.html') {
        // The bridge runs before the app's module script (module scripts are deferred).
        content = Buffer.from(content.toString('utf8').replace('<head>', '<head>\n    <script src="/__lps/bridge.js"></script>'));
      }
      return send(res, 200, content, contentType(file));
    })().catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, `Erreur interne : ${String(err)}`);
      else res.end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, resolve);
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://${host}:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    async close() {
      unsubscribe();
      for (const c of clients) c.end();
      clients.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
