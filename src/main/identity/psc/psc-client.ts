import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import http from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { AppError } from '../../core/errors';
import { PSC } from './psc-profile';
import { parsePscUserInfo, type PscIdentity } from './userinfo';

/**
 * Pro Santé Connect client for a desktop app (RFC 8252): authorization code + PKCE (S256) in the system
 * browser, redirect to a one-shot loopback listener on 127.0.0.1, ID token validated (issuer, audience,
 * nonce, signature), UserInfo parsed. Tokens live in this object only: never logged, never written in
 * clear; the refresh token may be handed to a `RefreshTokenVault` (Electron safeStorage) — plain Node has
 * none, so nothing is persisted there. Access tokens are refreshed ahead of expiry. Logout revokes the
 * tokens and ends the PSC session (end-session endpoint in the browser).
 */
export interface PscClientOptions {
  issuer: string;
  clientId: string;
  /** Confidential clients (real PSC registrations usually are); the sandbox client is public. */
  clientSecret?: string;
  scopes?: readonly string[];
  acrValues?: string;
  /** Opens the system browser (Electron `shell.openExternal`; tests: headless Chromium or plain HTTP). */
  openBrowser: (url: string) => Promise<void> | void;
  /** Refresh this many seconds before the access token expires (default 30). */
  refreshMarginSec?: number;
  /** How long the user has to authenticate (default 5 min). */
  loginTimeoutMs?: number;
  /** Keep the refresh token across restarts (Electron safeStorage only). */
  vault?: RefreshTokenVault;
  /** Refresh in the background ahead of expiry (default true). */
  autoRefresh?: boolean;
  now?: () => number;
}

/** Where an encrypted refresh token may be kept: implemented with Electron `safeStorage` in src/main/electron. */
export interface RefreshTokenVault {
  save(refreshToken: string): Promise<void>;
  load(): Promise<string | undefined>;
  clear(): Promise<void>;
}

export interface PscSessionInfo {
  identity: PscIdentity;
  /** ISO dates; no token is ever exposed through this. */
  accessTokenExpiresAt: string;
  refreshTokenExpiresAt?: string;
  authenticatedAt: string;
  acr?: string;
  /** True when the session was restored at start-up from the vault (no new authentication). */
  restored?: boolean;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
  revocation_endpoint?: string;
  introspection_endpoint?: string;
}

interface Tokens {
  accessToken: string;
  refreshToken?: string;
  idToken: string;
  expiresAt: number;
  refreshExpiresAt?: number;
}

export class PscClient extends EventEmitter {
  private discovery?: Discovery;
  private jwks?: ReturnType<typeof createRemoteJWKSet>;
  private tokens?: Tokens;
  private info?: PscSessionInfo;
  private refreshing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private readonly now: () => number;

  constructor(private readonly opts: PscClientOptions) {
    super();
    this.now = opts.now ?? Date.now;
  }

  session(): PscSessionInfo | undefined {
    return this.info;
  }

  async discover(): Promise<Discovery> {
    if (this.discovery) return this.discovery;
    const url = `${this.opts.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const d = (await this.getJson(url)) as Discovery;
    if (d.issuer !== this.opts.issuer) throw new AppError('PSC_CONFIG', 'La configuration de Pro Santé Connect est incohérente.', `issuer mismatch: ${d.issuer}`);
    this.discovery = d;
    this.jwks = createRemoteJWKSet(new URL(d.jwks_uri));
    return d;
  }

  /** The browser flow; resolves once the practitioner is authenticated and the identity is known. */
  async login(): Promise<PscSessionInfo> {
    const d = await this.discover();
    const state = b64url(crypto.randomBytes(24));
    const nonce = b64url(crypto.randomBytes(24));
    const verifier = b64url(crypto.randomBytes(48));
    const challenge = b64url(crypto.createHash('sha256').update(verifier).digest());
    const loop = await loopback('/callback', this.opts.loginTimeoutMs ?? 5 * 60_000);
    try {
      const auth = new URL(d.authorization_endpoint);
      const params: Record<string, string> = {
        response_type: 'code',
        client_id: this.opts.clientId,
        redirect_uri: loop.redirectUri,
        scope: (this.opts.scopes ?? PSC.scopes).join(' '),
        state,
        nonce,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        acr_values: this.opts.acrValues ?? PSC.acrValues,
      };
      for (const [k, v] of Object.entries(params)) auth.searchParams.set(k, v);
      await this.opts.openBrowser(auth.toString());
      const cb = await loop.result;
      if (cb.get('state') !== state) throw new AppError('PSC_STATE_MISMATCH', 'La réponse de Pro Santé Connect ne correspond pas à la demande de connexion.', 'state mismatch');
      if (cb.get('iss') && cb.get('iss') !== d.issuer) throw new AppError('PSC_STATE_MISMATCH', 'La réponse ne provient pas de Pro Santé Connect.', 'iss mismatch (RFC 9207)');
      const error = cb.get('error');
      if (error) throw new AppError('PSC_DENIED', "La connexion Pro Santé Connect a été refusée ou annulée.", `${error}: ${cb.get('error_description') ?? ''}`);
      const code = cb.get('code');
      if (!code) throw new AppError('PSC_PROTOCOL', 'Pro Santé Connect n’a pas renvoyé de code d’autorisation.', 'no code');
      const tok = await this.tokenRequest({ grant_type: 'authorization_code', code, redirect_uri: loop.redirectUri, code_verifier: verifier });
      const claims = await this.verifyIdToken(tok.id_token, nonce);
      const identity = parsePscUserInfo(await this.userinfo(tok.access_token));
      this.setTokens(tok);
      this.info = {
        identity,
        accessTokenExpiresAt: new Date(this.tokens!.expiresAt).toISOString(),
        ...(this.tokens!.refreshExpiresAt ? { refreshTokenExpiresAt: new Date(this.tokens!.refreshExpiresAt).toISOString() } : {}),
        authenticatedAt: new Date(this.now()).toISOString(),
        ...(typeof claims.acr === 'string' ? { acr: claims.acr } : {}),
      };
      if (this.tokens!.refreshToken && this.opts.vault) await this.opts.vault.save(this.tokens!.refreshToken);
      this.emit('session', this.info);
      return this.info;
    } finally {
      loop.close();
    }
  }

  /**
   * Restores a session at start-up from the refresh token kept in the vault (Electron safeStorage): one
   * refresh-token grant, then UserInfo. Without a vault (plain Node) or without a stored token: `undefined`.
   * A token the provider refuses (expired, revoked) is wiped from the vault; a network failure keeps it
   * (offline start: the next start tries again) and is thrown.
   */
  async resume(): Promise<PscSessionInfo | undefined> {
    if (this.info) return this.info;
    const vault = this.opts.vault;
    if (!vault) return undefined;
    const stored = await vault.load().catch(() => undefined);
    if (!stored) return undefined;
    let tok: TokenResponse;
    try {
      tok = await this.tokenRequest({ grant_type: 'refresh_token', refresh_token: stored });
    } catch (err) {
      if (err instanceof AppError && err.code === 'PSC_TOKEN_ERROR') {
        await vault.clear();
        return undefined;
      }
      throw err;
    }
    let acr: string | undefined;
    if (tok.id_token) {
      const claims = await this.verifyIdToken(tok.id_token, undefined);
      if (typeof claims.acr === 'string') acr = claims.acr;
    }
    const identity = parsePscUserInfo(await this.userinfo(tok.access_token));
    this.setTokens({ ...tok, refresh_token: tok.refresh_token ?? stored, id_token: tok.id_token ?? '' });
    this.info = {
      identity,
      accessTokenExpiresAt: new Date(this.tokens!.expiresAt).toISOString(),
      ...(this.tokens!.refreshExpiresAt ? { refreshTokenExpiresAt: new Date(this.tokens!.refreshExpiresAt).toISOString() } : {}),
      authenticatedAt: new Date(this.now()).toISOString(),
      ...(acr ? { acr } : {}),
      restored: true,
    };
    if (this.tokens!.refreshToken) await vault.save(this.tokens!.refreshToken);
    this.emit('session', this.info);
    return this.info;
  }

  /** A valid access token, refreshed first when it expires within the margin. */
  async accessToken(): Promise<string> {
    if (!this.tokens) throw new AppError('PSC_NOT_CONNECTED', 'Aucune session Pro Santé Connect : connectez-vous.', 'no session');
    const margin = (this.opts.refreshMarginSec ?? 30) * 1000;
    if (this.tokens.expiresAt - margin <= this.now()) await this.refresh();
    return this.tokens!.accessToken;
  }

  /** Exchanges the refresh token (one at a time); on failure the session ends. */
  async refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    const current = this.tokens;
    if (!current?.refreshToken) {
      this.wipe('expired');
      throw new AppError('PSC_SESSION_EXPIRED', 'La session Pro Santé Connect a expiré : reconnectez-vous.', 'no refresh token');
    }
    this.refreshing = (async () => {
      try {
        const tok = await this.tokenRequest({ grant_type: 'refresh_token', refresh_token: current.refreshToken! });
        this.setTokens({ ...tok, refresh_token: tok.refresh_token ?? current.refreshToken, id_token: tok.id_token ?? current.idToken });
        if (this.info) {
          this.info = { ...this.info, accessTokenExpiresAt: new Date(this.tokens!.expiresAt).toISOString() };
          this.emit('session', this.info);
        }
        if (this.opts.vault && this.tokens!.refreshToken) await this.opts.vault.save(this.tokens!.refreshToken);
      } catch (err) {
        this.wipe('expired');
        if (err instanceof AppError && err.code === 'PSC_TOKEN_ERROR') {
          throw new AppError('PSC_SESSION_EXPIRED', 'La session Pro Santé Connect a expiré : reconnectez-vous.', err.detail, { cause: err });
        }
        throw err;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  /**
   * Ends the session: revokes the refresh and access tokens, then ends the PSC session in the browser
   * (end-session endpoint with id_token_hint) unless `browser: false`. Tokens are wiped in all cases.
   */
  async logout(opts: { browser?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const tokens = this.tokens;
    this.wipe('logout');
    if (this.opts.vault) await this.opts.vault.clear();
    if (!tokens) return;
    const d = await this.discover();
    if (d.revocation_endpoint) {
      for (const [token, hint] of [[tokens.refreshToken, 'refresh_token'], [tokens.accessToken, 'access_token']] as const) {
        if (!token) continue;
        await this.post(d.revocation_endpoint, { token, token_type_hint: hint }).catch(() => undefined);
      }
    }
    if (d.end_session_endpoint && opts.browser !== false) {
      const loop = await loopback('/logout', opts.timeoutMs ?? 60_000);
      try {
        const url = new URL(d.end_session_endpoint);
        if (tokens.idToken) url.searchParams.set('id_token_hint', tokens.idToken);
        url.searchParams.set('client_id', this.opts.clientId);
        url.searchParams.set('post_logout_redirect_uri', loop.redirectUri);
        const state = b64url(crypto.randomBytes(16));
        url.searchParams.set('state', state);
        await this.opts.openBrowser(url.toString());
        await loop.result.catch(() => undefined); // the tokens are already revoked: a closed tab is not an error
      } finally {
        loop.close();
      }
    }
  }

  /** Forgets the session (card removed, app locked…) without calling the provider. */
  forget(): void {
    this.wipe('logout');
  }

  private wipe(reason: 'logout' | 'expired'): void {
    const had = !!this.tokens;
    this.tokens = undefined;
    this.info = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (had) this.emit('ended', reason);
  }

  private setTokens(tok: TokenResponse): void {
    const now = this.now();
    this.tokens = {
      accessToken: tok.access_token,
      idToken: tok.id_token,
      ...(tok.refresh_token ? { refreshToken: tok.refresh_token } : {}),
      expiresAt: now + (tok.expires_in ?? 60) * 1000,
      ...(tok.refresh_expires_in ? { refreshExpiresAt: now + tok.refresh_expires_in * 1000 } : {}),
    };
    if (this.opts.autoRefresh !== false && this.tokens.refreshToken) {
      if (this.timer) clearTimeout(this.timer);
      const margin = (this.opts.refreshMarginSec ?? 30) * 1000;
      const delay = Math.max(1000, this.tokens.expiresAt - margin - now);
      this.timer = setTimeout(() => {
        this.refresh().catch((err: Error) => this.emit('refresh-error', err instanceof AppError ? err.code : 'PSC_REFRESH_FAILED'));
      }, delay);
      this.timer.unref();
    }
  }

  /** `nonce` undefined: a refreshed ID token (OIDC Core §12.2: no nonce check). */
  private async verifyIdToken(idToken: string, nonce: string | undefined): Promise<Record<string, unknown>> {
    const d = await this.discover();
    try {
      const { payload } = await jwtVerify(idToken, this.jwks!, { issuer: d.issuer, audience: this.opts.clientId });
      if (nonce !== undefined && payload.nonce !== nonce) throw new Error('nonce mismatch');
      return payload as Record<string, unknown>;
    } catch (err) {
      throw new AppError('PSC_ID_TOKEN_INVALID', "Le jeton d'identité de Pro Santé Connect est invalide.", (err as Error).message);
    }
  }

  private async userinfo(accessToken: string): Promise<unknown> {
    const d = await this.discover();
    const res = await fetch(d.userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' } });
    if (!res.ok) throw new AppError('PSC_USERINFO_FAILED', "Pro Santé Connect n'a pas fourni l'identité du professionnel.", `userinfo HTTP ${res.status}`);
    const type = res.headers.get('content-type') ?? '';
    if (type.includes('application/jwt')) throw new AppError('PSC_USERINFO_FAILED', 'Format de réponse UserInfo non pris en charge.', 'signed userinfo');
    return res.json();
  }

  private async tokenRequest(body: Record<string, string>): Promise<TokenResponse> {
    const d = await this.discover();
    const res = await this.post(d.token_endpoint, body);
    const json = (await res.json().catch(() => ({}))) as Partial<TokenResponse> & { error?: string; error_description?: string };
    if (!res.ok || !json.access_token) {
      // Never put the request (code, verifier, refresh token) in the error.
      throw new AppError('PSC_TOKEN_ERROR', 'Pro Santé Connect a refusé la demande de jeton.', `token endpoint HTTP ${res.status}: ${json.error ?? ''} ${json.error_description ?? ''}`.trim());
    }
    if (!json.id_token && body.grant_type === 'authorization_code') throw new AppError('PSC_PROTOCOL', "Pro Santé Connect n'a pas renvoyé de jeton d'identité.", 'no id_token');
    return json as TokenResponse;
  }

  private post(url: string, body: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const form = new URLSearchParams(body);
    if (this.opts.clientSecret) {
      headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(this.opts.clientId)}:${encodeURIComponent(this.opts.clientSecret)}`).toString('base64')}`;
    } else {
      form.set('client_id', this.opts.clientId);
    }
    return fetch(url, { method: 'POST', headers, body: form.toString() });
  }

  private async getJson(url: string): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(url, { headers: { accept: 'application/json' } });
    } catch (err) {
      throw new AppError('PSC_UNREACHABLE', 'Pro Santé Connect est injoignable. Vérifiez la connexion réseau.', `${url}: ${(err as Error).message}`);
    }
    if (!res.ok) throw new AppError('PSC_UNREACHABLE', 'Pro Santé Connect est injoignable.', `${url}: HTTP ${res.status}`);
    return res.json();
  }
}

interface TokenResponse {
  access_token: string;
  id_token: string;
  refresh_token?: string;
  expires_in?: number;
  refresh_expires_in?: number;
  token_type?: string;
}

function b64url(buf: Buffer): string {
  return buf.toString('base64url');
}

/** A one-shot HTTP listener on 127.0.0.1:<free port> receiving the browser redirect (RFC 8252 §7.3). */
async function loopback(pathname: string, timeoutMs: number): Promise<{ redirectUri: string; result: Promise<URLSearchParams>; close(): void }> {
  let resolve!: (p: URLSearchParams) => void;
  let reject!: (e: Error) => void;
  const result = new Promise<URLSearchParams>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  result.catch(() => undefined);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== pathname) {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('cache-control', 'no-store');
    const failed = url.searchParams.has('error');
    const msg = pathname === '/logout' ? 'Vous êtes déconnecté de Pro Santé Connect.' : failed ? 'La connexion a échoué ou a été annulée.' : 'Connexion réussie.';
    res.end(`<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Compagnon LPS</title></head><body><p id="lps-result">${msg} Vous pouvez fermer cette fenêtre et revenir à l'application.</p></body></html>`);
    resolve(url.searchParams);
  });
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const port = (server.address() as { port: number }).port;
  const timer = setTimeout(() => reject(new AppError('PSC_LOGIN_TIMEOUT', "La connexion Pro Santé Connect n'a pas abouti dans le délai imparti.", `no redirect after ${timeoutMs} ms`)), timeoutMs);
  timer.unref();
  return {
    redirectUri: `http://127.0.0.1:${port}${pathname}`,
    result,
    close: () => {
      clearTimeout(timer);
      server.close();
      server.closeAllConnections?.();
    },
  };
}
