import { spawn } from 'node:child_process';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { readConfigSecret } from '../config/secrets';
import { CardService } from './card/card-service';
import { resolvePkcs11Module, SETTING_PKCS11_MODULE } from './card/pkcs11-module';
import { PscClient, type PscSessionInfo, type RefreshTokenVault } from './psc/psc-client';
import type { IdentityProfileSections } from './sandbox-service';

/** Production PSC registration, in the settings (`identity.psc`). */
export interface PscSettings {
  issuer: string;
  clientId: string;
  clientSecret?: string;
}
export const SETTING_PSC = 'identity.psc';

/**
 * The identity capability's live objects for one Core: the card watcher and the PSC client, created on first
 * use (a CLI command that never touches the card never loads the PKCS#11 module). Electron injects its own
 * browser opener (`shell.openExternal`) and refresh-token vault (safeStorage) with `configureIdentity`.
 */
export interface IdentityRuntime {
  card(): CardService;
  psc(): PscClient;
  /** Sandbox sections when the sandbox profile is active and running. */
  sandbox(): Partial<IdentityProfileSections> | undefined;
  /** Drops the card service (module path changed in the settings): the next call loads the new module. */
  resetCard(): void;
  /** Drops the PSC client when no session runs (registration changed in the settings). */
  resetPsc(): void;
}

interface Injected {
  openBrowser?: (url: string) => Promise<void> | void;
  vault?: RefreshTokenVault;
}

const runtimes = new WeakMap<Core, IdentityRuntime>();
const injected = new WeakMap<Core, Injected>();

/** Electron wiring: `configureIdentity(core, { openBrowser: (u) => shell.openExternal(u), vault })`. */
export function configureIdentity(core: Core, opts: Injected): void {
  injected.set(core, { ...injected.get(core), ...opts });
}

export function identityRuntime(core: Core): IdentityRuntime {
  const existing = runtimes.get(core);
  if (existing) return existing;
  let card: CardService | undefined;
  let psc: PscClient | undefined;
  const sandbox = (): Partial<IdentityProfileSections> | undefined => {
    if (core.profiles.state(core.sandbox.isRunning()).active !== 'sandbox') return undefined;
    const profile = core.sandbox.status() as unknown as Partial<IdentityProfileSections> & { running: boolean };
    return profile.running ? profile : undefined;
  };
  const rt: IdentityRuntime = {
    sandbox,
    resetCard() {
      card?.stop();
      card?.removeAllListeners();
      card = undefined;
    },
    resetPsc() {
      if (psc && !psc.session()) {
        psc.removeAllListeners();
        psc = undefined;
      }
    },
    card() {
      if (card) return card;
      const sb = sandbox()?.card;
      const modulePath = sb?.module ?? resolvePkcs11Module(core.settings.get<string>(SETTING_PKCS11_MODULE));
      card = new CardService({ modulePath, ...(sb ? { env: { SOFTHSM2_CONF: sb.softhsmConf } } : {}) });
      const c = card;
      c.on('inserted', (status) => core.events.emit('identity.card', { kind: 'inserted', status }));
      c.on('removed', () => core.events.emit('identity.card', { kind: 'removed', status: c.status() }));
      c.on('changed', (status) => core.events.emit('identity.card', { kind: 'changed', status }));
      c.on('error', () => undefined); // polling errors are reflected in the status
      core.onClose(() => c.stop());
      return c;
    },
    psc() {
      if (psc) return psc;
      const sb = sandbox()?.psc;
      const stored = core.settings.get<PscSettings>(SETTING_PSC);
      const secret = stored ? readConfigSecret(core, 'psc-client-secret') : undefined;
      const conf: PscSettings | undefined = sb ? { issuer: sb.issuer, clientId: sb.clientId } : stored ? { ...stored, ...(secret ? { clientSecret: secret } : {}) } : undefined;
      if (!conf) throw new AppError('PSC_NOT_CONFIGURED', "Pro Santé Connect n'est pas configuré : renseignez l'identifiant client dans les paramètres.", 'no identity.psc setting');
      const inj = injected.get(core) ?? {};
      const openBrowser = inj.openBrowser ?? (core.runtime === 'harness' ? harnessBrowser(core) : openSystemBrowser);
      psc = new PscClient({ ...conf, openBrowser, ...(inj.vault ? { vault: inj.vault } : {}) });
      const p = psc;
      p.on('session', (session) => core.events.emit('identity.psc', { connected: true, reason: 'refresh', session }));
      p.on('ended', (reason: 'logout' | 'expired') => core.events.emit('identity.psc', { connected: false, reason }));
      core.onClose(() => p.forget());
      return p;
    },
  };
  runtimes.set(core, rt);
  return rt;
}

/**
 * Start-up: restores the PSC session from the refresh-token vault (Electron safeStorage). Plain Node has no
 * vault, so nothing is restored there. Never throws: an unconfigured PSC, an empty vault or an unreachable
 * provider leave the app signed out (the stored token is kept when the provider is only unreachable).
 */
export async function restorePscSession(core: Core): Promise<PscSessionInfo | undefined> {
  if (!injected.get(core)?.vault) return undefined;
  let client: PscClient;
  try {
    client = identityRuntime(core).psc();
  } catch {
    return undefined; // PSC not configured
  }
  try {
    const session = await client.resume();
    if (session) {
      core.audit.append({ actor: session.identity.nationalId, action: 'identity.psc.restore', outcome: 'success', details: {} });
      core.events.emit('identity.psc', { connected: true, reason: 'login', session });
    }
    return session;
  } catch (err) {
    core.audit.append({ actor: 'application', action: 'identity.psc.restore', outcome: 'failure', details: { code: err instanceof AppError ? err.code : 'PSC_RESTORE_FAILED' } });
    return undefined;
  }
}

/**
 * Browser harness: the "system browser" is the browser the app already runs in. Main asks the renderer to open
 * the URL in a new tab (`identity.browser` event); the loopback redirect then completes the flow as usual.
 */
export function harnessBrowser(core: Core): (url: string) => void {
  return (url) => {
    const purpose = new URL(url).searchParams.has('id_token_hint') || /logout|end_session|session\/end/.test(url) ? 'psc-logout' : 'psc-login';
    core.events.emit('identity.browser', { url, purpose });
  };
}

/** Plain Node: the OS's default browser. */
export function openSystemBrowser(url: string): Promise<void> {
  const [cmd, args] = process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : process.platform === 'darwin' ? ['open', [url]] : ['xdg-open', [url]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true });
    child.once('error', () => reject(new AppError('BROWSER_UNAVAILABLE', "Le navigateur n'a pas pu être ouvert. Ouvrez l'adresse affichée manuellement.", `cannot run ${cmd as string}`)));
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
