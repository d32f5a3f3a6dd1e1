import { spawn } from 'node:child_process';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { CardService } from './card/card-service';
import { resolvePkcs11Module, SETTING_PKCS11_MODULE } from './card/pkcs11-module';
import { PscClient, type RefreshTokenVault } from './psc/psc-client';
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
      const conf: PscSettings | undefined = sb ? { issuer: sb.issuer, clientId: sb.clientId } : core.settings.get<PscSettings>(SETTING_PSC);
      if (!conf) throw new AppError('PSC_NOT_CONFIGURED', "Pro Santé Connect n'est pas configuré : renseignez l'identifiant client dans les paramètres.", 'no identity.psc setting');
      const inj = injected.get(core) ?? {};
      psc = new PscClient({ ...conf, openBrowser: inj.openBrowser ?? openSystemBrowser, ...(inj.vault ? { vault: inj.vault } : {}) });
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
