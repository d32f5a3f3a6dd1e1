import { PscClient } from './psc-client';

/**
 * Logs in to the SANDBOX PSC provider without a browser, for tests and scripts of other capabilities (the
 * mail tests need an access token): the same authorization code + PKCE flow, with the login page driven over
 * plain HTTP (cookies kept, redirects followed by hand). Never for production.
 */
export async function pscPasswordLogin(psc: { issuer: string; clientId: string; practitioner: { login: string; password: string } }, opts: { autoRefresh?: boolean } = {}): Promise<{ client: PscClient; accessToken: string }> {
  const client = new PscClient({
    issuer: psc.issuer,
    clientId: psc.clientId,
    autoRefresh: opts.autoRefresh ?? false,
    openBrowser: (url) => driveLoginOverHttp(url, psc.practitioner),
  });
  await client.login();
  return { client, accessToken: await client.accessToken() };
}

/** Follows redirects with a cookie jar; fills the sandbox login form when it shows up. */
export async function driveLoginOverHttp(startUrl: string, creds?: { login: string; password: string }): Promise<void> {
  const jar = new Map<string, string>();
  let url = startUrl;
  let method = 'GET';
  let body: string | undefined;
  for (let hop = 0; hop < 20; hop++) {
    if (process.env.LPS_DEBUG_PSC) console.error(method, url.slice(0, 150));
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(body ? { body } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      jar.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url).toString();
      method = 'GET';
      body = undefined;
      continue;
    }
    const html = await res.text();
    const form = /<form[^>]*method="post"[^>]*action="([^"]+)"/i.exec(html);
    if (form && /id="login"/.test(html) && creds) {
      if (/id="error"/.test(html) && method === 'POST') throw new Error('sandbox PSC login refused');
      url = new URL(form[1]!.replace(/&amp;/g, '&'), url).toString();
      method = 'POST';
      body = new URLSearchParams({ login: creds.login, password: creds.password }).toString();
      continue;
    }
    // The logout page auto-submits its form (script): do it here.
    const logoutForm = /<form[^>]*id="op.logoutForm"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
    if (logoutForm) {
      const action = /action="([^"]+)"/.exec(logoutForm[0])![1]!;
      const fields = [...logoutForm[1]!.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]);
      url = new URL(action.replace(/&amp;/g, '&'), url).toString();
      method = 'POST';
      body = new URLSearchParams(fields).toString();
      continue;
    }
    return; // landed on the loopback page (or an error page the caller's promise reports)
  }
  throw new Error('too many redirects in the sandbox PSC flow');
}
