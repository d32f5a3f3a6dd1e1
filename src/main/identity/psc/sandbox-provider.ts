import crypto from 'node:crypto';
import http from 'node:http';
import { PSC, userInfoClaims, type PscPractitioner } from './psc-profile';

/**
 * The sandbox Pro Santé Connect: a real OpenID provider (npm `oidc-provider`) on loopback, shaped like PSC —
 * Keycloak realm paths, `openid scope_all`, `acr_values=eidas1`, PSC's UserInfo claims, 120 s access tokens,
 * refresh tokens, RFC 7662 introspection (the mail server validates XOAUTH2 tokens with it), revocation and
 * RP-initiated logout (which revokes the session's tokens). The login page stands for the CPS / e-CPS
 * authentication: national id + password; a test drives it (ids `login`, `password`, `submit`).
 */
export interface SandboxPscConfig {
  host: string;
  port: number;
  clientId: string;
  /** Confidential client allowed to introspect (the mail server). */
  introspectionClientId: string;
  introspectionClientSecret: string;
  accessTokenTtl: number;
  refreshTokenTtl: number;
  practitioners: PscPractitioner[];
}

export interface RunningProvider {
  issuer: string;
  close(): Promise<void>;
}

export function issuerOf(host: string, port: number): string {
  return `http://${host}:${port}${PSC.realmPath}`;
}

export async function startSandboxPscProvider(cfg: SandboxPscConfig): Promise<RunningProvider> {
  const { default: Provider } = (await import('oidc-provider')) as { default: new (issuer: string, conf: unknown) => OidcProvider };
  const issuer = issuerOf(cfg.host, cfg.port);
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomBytes(6).toString('hex'), use: 'sig', alg: 'RS256' };
  const byLogin = new Map(cfg.practitioners.map((p) => [p.login, p]));
  const byId = new Map(cfg.practitioners.map((p) => [p.nationalId, p]));
  const interactionPath = `${PSC.realmPath}/interaction/`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: cfg.clientId,
        application_type: 'native', // RFC 8252: loopback redirect, any port
        token_endpoint_auth_method: 'none',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
        post_logout_redirect_uris: ['http://127.0.0.1/logout'],
      },
      {
        client_id: cfg.introspectionClientId,
        client_secret: cfg.introspectionClientSecret,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: [],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: [jwk] },
    routes: PSC.routes,
    scopes: ['openid', 'scope_all', 'offline_access'],
    claims: { openid: ['sub'], scope_all: [...PSC.claims] },
    acrValues: [PSC.acrValues],
    cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
    ttl: {
      AccessToken: cfg.accessTokenTtl,
      IdToken: 3600,
      RefreshToken: cfg.refreshTokenTtl,
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 8 * 3600,
      Grant: 8 * 3600,
    },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      revocation: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        // Keycloak logs out without asking when the id_token_hint is valid: mimic it by auto-submitting.
        logoutSource: async (ctx: KoaCtx, form: string) => {
          ctx.body = page('Déconnexion', `${form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>')}<p>Déconnexion en cours…</p><script>document.forms[0].submit()</script>`);
        },
        postLogoutSuccessSource: async (ctx: KoaCtx) => {
          ctx.body = page('Déconnecté', '<p id="logged-out">Vous êtes déconnecté de Pro Santé Connect (bac à sable).</p>');
        },
      },
    },
    pkce: { required: () => true },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${interactionPath}${interaction.uid}` },
    findAccount: async (_ctx: unknown, id: string) => {
      const p = byId.get(id);
      if (!p) return undefined;
      return { accountId: id, claims: async () => userInfoClaims(p) };
    },
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(t: string): boolean }) => client.grantTypeAllowed('refresh_token'),
    // What the introspection response carries besides `active`/`sub`: the mail server logs the user in by `username`.
    extraTokenClaims: async (_ctx: unknown, token: { accountId?: string; kind: string }) => {
      const p = token.accountId ? byId.get(token.accountId) : undefined;
      return p ? { username: p.email, email: p.email, SubjectNameID: p.nationalId } : undefined;
    },
    renderError: async (ctx: KoaCtx, out: Record<string, string>) => {
      ctx.type = 'html';
      ctx.body = page('Erreur', `<p id="error">${esc(out.error ?? 'erreur')} — ${esc(out.error_description ?? '')}</p>`);
    },
  });
  provider.on('server_error', (_ctx: unknown, err: Error) => process.stderr.write(`PSC sandbox server_error: ${err.message}\n`));
  const callback = provider.callback();

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith(interactionPath)) {
      handleInteraction(provider, byLogin, req, res).catch((err: Error) => {
        res.statusCode = 500;
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(page('Erreur', `<p id="error">${esc(err.message)}</p>`));
      });
      return;
    }
    if (url === '/' || url === '/health') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ ok: true, issuer }));
      return;
    }
    if (!url.startsWith(PSC.realmPath)) {
      res.statusCode = 404;
      res.end();
      return;
    }
    req.url = url.slice(PSC.realmPath.length) || '/';
    (req as { originalUrl?: string }).originalUrl = url;
    callback(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.port, cfg.host, () => resolve());
  });
  return {
    issuer,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function handleInteraction(provider: OidcProvider, byLogin: Map<string, PscPractitioner>, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  const prompt = details.prompt.name;
  if (process.env.LPS_DEBUG_PSC) process.stderr.write(JSON.stringify(details.prompt) + '\n');
  if (req.method === 'POST') {
    const form = new URLSearchParams(await readBody(req));
    if (prompt === 'login') {
      const p = byLogin.get((form.get('login') ?? '').trim());
      if (!p || !safeEqual(form.get('password') ?? '', p.password)) {
        sendHtml(res, loginPage(details.uid, 'Identifiant ou mot de passe incorrect.'));
        return;
      }
      await provider.interactionFinished(req, res, { login: { accountId: p.nationalId, acr: PSC.acrValues, amr: ['pwd'] } }, { mergeWithLastSubmission: false });
      return;
    }
    await provider.interactionFinished(req, res, { consent: { grantId: await grantFor(provider, details) } }, { mergeWithLastSubmission: true });
    return;
  }
  if (prompt === 'login') {
    sendHtml(res, loginPage(details.uid));
    return;
  }
  // Consent (oidc-provider always asks it for native clients): first-party app, granted without a screen.
  await provider.interactionFinished(req, res, { consent: { grantId: await grantFor(provider, details) } }, { mergeWithLastSubmission: true });
}

async function grantFor(provider: OidcProvider, details: InteractionDetails): Promise<string> {
  const accountId = details.session?.accountId;
  const clientId = String(details.params.client_id ?? '');
  if (!accountId) throw new Error('no authenticated session for the consent prompt');
  const existing = details.grantId ? ((await provider.Grant.find(details.grantId)) as GrantInstance | undefined) : undefined;
  const grant = existing ?? new provider.Grant({ clientId, accountId });
  grant.addOIDCScope('openid scope_all');
  grant.addOIDCClaims([...PSC.claims]);
  return grant.save();
}

function loginPage(uid: string, error?: string): string {
  return page(
    'Pro Santé Connect — bac à sable',
    `<h1>Pro Santé Connect <small>(bac à sable)</small></h1>
<p>Identification par carte CPS / e-CPS simulée.</p>
${error ? `<p id="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="${PSC.realmPath}/interaction/${esc(uid)}" autocomplete="off">
  <label>Identifiant national <input id="login" name="login" required/></label>
  <label>Mot de passe <input id="password" name="password" type="password" required/></label>
  <button id="submit" type="submit">Se connecter</button>
</form>`,
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>${esc(title)}</title></head><body>${body}</body></html>`;
}

function sendHtml(res: http.ServerResponse, html: string): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(html);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > 64 * 1024) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function safeEqual(a: string, b: string): boolean {
  const x = crypto.createHash('sha256').update(a).digest();
  const y = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(x, y);
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

// Minimal typing of the parts of oidc-provider used here (the package ships no types).
interface KoaCtx {
  body: unknown;
  type: string;
  oidc: {
    result?: { consent?: { grantId?: string } };
    session: { grantIdFor(clientId: string): string | undefined; accountId: string };
    client: { clientId: string };
    provider: { Grant: GrantCtor };
  };
}
interface GrantInstance {
  addOIDCScope(s: string): void;
  addOIDCClaims(c: string[]): void;
  save(): Promise<string>;
}
interface GrantCtor {
  new (init: { clientId: string; accountId: string }): GrantInstance;
  find(id: string): Promise<unknown>;
}
interface InteractionDetails {
  uid: string;
  prompt: { name: string };
  params: Record<string, unknown>;
  grantId?: string;
  session?: { accountId: string };
}
interface OidcProvider {
  callback(): (req: http.IncomingMessage, res: http.ServerResponse) => void;
  on(event: string, fn: (...args: never[]) => void): void;
  Grant: GrantCtor;
  interactionDetails(req: http.IncomingMessage, res: http.ServerResponse): Promise<InteractionDetails>;
  interactionFinished(req: http.IncomingMessage, res: http.ServerResponse, result: unknown, opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
}
