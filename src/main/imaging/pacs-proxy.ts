import http from 'node:http';
import { DICOMWEB_ROOT } from './orthanc';

/**
 * The sandbox PACS's front door, on 127.0.0.1: DICOMweb only, behaving like a DRIMbox-facing producer.
 * - `Authorization: Bearer <PSC access token>` is required; the token is checked by OAuth 2.0 introspection
 *   (RFC 7662, `POST token=…`) against Pro Santé Connect when the profile has it, else against a fixed
 *   list (tests). 401 with `WWW-Authenticate: Bearer` otherwise.
 * - Retrievals under `/studies/{uid}` need the `KOS-SOPInstanceUID` header (400 without, as the DRIMbox).
 * - Everything else (Orthanc's REST API, writes) is 403: the proxy is read-only.
 * Orthanc itself cannot check tokens, and listens on every interface with remote access refused.
 */

export interface PacsProxyOptions {
  /** Orthanc's base URL, e.g. http://127.0.0.1:PORT */
  upstream: string;
  introspectionUrl?: string;
  staticTokens?: string[];
  requireKosHeader?: boolean;
  /** Test hook: delay every answer by this many ms (to exercise client timeouts). */
  delayMs?: number;
}

const CACHE_MS = 30_000;

export function createPacsProxy(opts: PacsProxyOptions): http.Server {
  const upstream = new URL(opts.upstream);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const tokenCache = new Map<string, { active: boolean; until: number }>();

  async function tokenActive(token: string): Promise<boolean> {
    if (opts.staticTokens?.includes(token)) return true;
    if (!opts.introspectionUrl) return false;
    const hit = tokenCache.get(token);
    if (hit && hit.until > Date.now()) return hit.active;
    const u = new URL(opts.introspectionUrl);
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (u.username) {
      headers.authorization = `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}`;
      u.username = '';
      u.password = '';
    }
    let active = false;
    try {
      const res = await fetch(u, { method: 'POST', headers, body: new URLSearchParams({ token }).toString(), signal: AbortSignal.timeout(5000) });
      if (res.ok) active = ((await res.json()) as { active?: unknown }).active === true;
    } catch {
      active = false;
    }
    tokenCache.set(token, { active, until: Date.now() + CACHE_MS });
    return active;
  }

  function refuse(res: http.ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...extra });
    res.end(JSON.stringify({ error: message }));
  }

  return http.createServer((req, res) => {
    void (async () => {
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const url = new URL(req.url ?? '/', 'http://proxy');
      if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(res, 405, 'read-only DICOMweb', { allow: 'GET, HEAD' });
      if (!url.pathname.startsWith(`${DICOMWEB_ROOT}/`)) return refuse(res, 403, 'only DICOMweb is exposed');
      const auth = req.headers.authorization ?? '';
      const m = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)$/.exec(auth);
      if (!m || !(await tokenActive(m[1]!))) {
        return refuse(res, 401, 'invalid or missing bearer token', { 'www-authenticate': `Bearer realm="lps-sandbox-pacs", error="invalid_token"` });
      }
      if (opts.requireKosHeader && /^\/dicom-web\/studies\/[^/]+/.test(url.pathname) && !req.headers['kos-sopinstanceuid']) {
        return refuse(res, 400, 'KOS-SOPInstanceUID header required');
      }
      const headers = { ...req.headers };
      delete headers.authorization;
      delete headers['kos-sopinstanceuid'];
      headers.host = upstream.host;
      const up = http.request(
        { protocol: upstream.protocol, hostname: upstream.hostname, port: upstream.port, method: req.method, path: url.pathname + url.search, headers, agent },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', (err) => {
        if (!res.headersSent) refuse(res, 502, `upstream: ${err.message}`);
        else res.destroy();
      });
      req.on('close', () => {
        if (!res.writableFinished) up.destroy();
      });
      up.end();
    })().catch((err: Error) => {
      if (!res.headersSent) refuse(res, 500, err.message);
    });
  });
}
