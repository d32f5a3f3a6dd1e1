import type { Page } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PscClient } from '../../../src/main/identity/psc/psc-client';
import { sandboxPractitioner } from '../../../src/main/identity/psc/psc-profile';
import { startSandboxPscProvider, type RunningProvider } from '../../../src/main/identity/psc/sandbox-provider';
import { PSC } from '../../../src/main/identity/psc/psc-profile';
import { freePort } from '../../../src/main/sandbox/ports';
import { HAS_CHROMIUM, launchChromium } from '../../support/browser';

const TTL = 3; // seconds: real expiry at the provider, quickly
const SECRET = 'introspection-secret';

describe.skipIf(!HAS_CHROMIUM)('Pro Santé Connect: full browser flow against a real OpenID provider', () => {
  let provider: RunningProvider;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const practitioner = sandboxPractitioner('s3cret-pw');
  const loginForms: string[] = [];

  async function textOf(selector: string): Promise<string> {
    await page.waitForSelector(selector, { timeout: 10_000 });
    return (await page.textContent(selector)) ?? '';
  }

  async function introspect(token: string): Promise<Record<string, unknown>> {
    const res = await fetch(`${provider.issuer}${PSC.routes.introspection}`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`mail-server:${SECRET}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
    });
    return (await res.json()) as Record<string, unknown>;
  }

  /** The "system browser": headless Chromium, filling the PSC login page when it shows up. */
  async function openBrowser(url: string, password = practitioner.password): Promise<void> {
    await page.goto(url);
    if (await page.locator('#login').count()) {
      loginForms.push(page.url());
      await page.fill('#login', practitioner.login);
      await page.fill('#password', password);
      await page.click('#submit');
    }
  }

  beforeAll(async () => {
    const port = await freePort();
    provider = await startSandboxPscProvider({
      host: '127.0.0.1',
      port,
      clientId: 'lps-companion',
      introspectionClientId: 'mail-server',
      introspectionClientSecret: SECRET,
      accessTokenTtl: TTL,
      refreshTokenTtl: 600,
      practitioners: [practitioner],
    });
    chromium = await launchChromium();
  });
  beforeEach(async () => {
    // A fresh browser profile per test: no PSC session cookie carried over.
    const context = await chromium.browser.newContext();
    page = await context.newPage();
  });
  afterAll(async () => {
    await chromium?.close();
    await provider?.close();
  });

  it('logs in (code + PKCE, loopback), refreshes after expiry, logs out (tokens rejected afterwards)', async () => {
    const client = new PscClient({ issuer: provider.issuer, clientId: 'lps-companion', openBrowser: (u) => openBrowser(u), refreshMarginSec: 0, autoRefresh: false });
    const session = await client.login();
    expect(loginForms).toHaveLength(1);
    expect(await textOf('#lps-result')).toContain('Connexion réussie');
    expect(session.identity).toMatchObject({ nationalId: '899700012345', idType: '8', lastName: 'DURAND', firstName: 'Claire' });
    expect(session.identity.exercices[0]).toMatchObject({ professionCode: '10', specialtyCode: 'SM54' });
    expect(session.identity.exercices[0]!.activities[0]).toMatchObject({ structureId: '3990000001', sectorCode: 'SA07' });
    expect(session.acr).toBe('eidas1');
    expect(JSON.stringify(session)).not.toMatch(/eyJ|"[A-Za-z0-9_-]{40,}"/); // no token in what the UI sees

    const first = await client.accessToken();
    expect(await introspect(first)).toMatchObject({ active: true, sub: '899700012345', username: practitioner.email });

    // Let the access token really expire at the provider, then ask for one: it is refreshed.
    await new Promise((r) => setTimeout(r, (TTL + 1) * 1000));
    expect(await introspect(first)).toEqual({ active: false });
    const second = await client.accessToken();
    expect(second).not.toBe(first);
    expect(await introspect(second)).toMatchObject({ active: true });

    await client.logout();
    expect(await textOf('#lps-result')).toContain('déconnecté');
    expect(client.session()).toBeUndefined();
    expect(await introspect(second)).toEqual({ active: false });
    await expect(client.accessToken()).rejects.toMatchObject({ code: 'PSC_NOT_CONNECTED' });

    // The provider session ended too: a new login asks for the credentials again.
    const again = new PscClient({ issuer: provider.issuer, clientId: 'lps-companion', openBrowser: (u) => openBrowser(u), autoRefresh: false });
    await again.login();
    expect(loginForms).toHaveLength(2);
    await again.logout();
  });

  it('a wrong password keeps the user on the PSC page; the login times out with a clear error', async () => {
    const client = new PscClient({ issuer: provider.issuer, clientId: 'lps-companion', openBrowser: (u) => openBrowser(u, 'wrong'), loginTimeoutMs: 2500, autoRefresh: false });
    await expect(client.login()).rejects.toMatchObject({ code: 'PSC_LOGIN_TIMEOUT' });
    expect(await textOf('#error')).toContain('incorrect');
  });

  it('refuses a callback whose state does not match (forged redirect)', async () => {
    const client = new PscClient({
      issuer: provider.issuer,
      clientId: 'lps-companion',
      autoRefresh: false,
      openBrowser: async (u) => {
        const redirect = new URL(u).searchParams.get('redirect_uri')!;
        await fetch(`${redirect}?code=forged&state=not-the-one`);
      },
    });
    await expect(client.login()).rejects.toMatchObject({ code: 'PSC_STATE_MISMATCH' });
  });
});
