/**
 * The Electron runtime cannot run here: this loads the BUILT main and preload bundles with a stand-in
 * `electron` module and checks what they ask of Electron — window options, CSP, protocol, IPC wiring,
 * navigation rules, single-instance lock and the French menu.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import Module from 'node:module';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENDERER_CSP } from '../../../src/shared/security';
import { ensureBuilt, OUT } from '../../support/build';
import { tempDir } from '../../support/tmp';
import { createCore } from '../../../src/main/handlers';
import { softhsmModule } from '../../../src/main/identity/card/softhsm';
import { sandboxPractitioner } from '../../../src/main/identity/psc/psc-profile';
import { startSandboxPscProvider, type RunningProvider } from '../../../src/main/identity/psc/sandbox-provider';
import { driveLoginOverHttp } from '../../../src/main/identity/psc/test-login';
import { freePort } from '../../../src/main/sandbox/ports';
import { testIdentity } from '../../integration/identity/fixtures';

type Fn = (...args: any[]) => any;

interface Recorder {
  windows: { options: any; loaded?: string; sent: any[][] }[];
  ipc: Map<string, Fn>;
  protocols: Map<string, Fn>;
  privileged: any[];
  headersHook?: Fn;
  permissionHandler?: Fn;
  menu?: any[];
  appEvents: Map<string, Fn[]>;
  opened: string[];
  quit: number;
  exposed: Map<string, any>;
  rendererListeners: Map<string, Fn[]>;
  invoked: any[][];
}

function standIn(lock: boolean): { electron: any; rec: Recorder } {
  const rec: Recorder = {
    windows: [],
    ipc: new Map(),
    protocols: new Map(),
    privileged: [],
    appEvents: new Map(),
    opened: [],
    quit: 0,
    exposed: new Map(),
    rendererListeners: new Map(),
    invoked: [],
  };
  let userData = '';
  class BrowserWindow {
    static all: BrowserWindow[] = [];
    static getAllWindows() {
      return BrowserWindow.all;
    }
    entry: Recorder['windows'][number];
    webContents: any;
    constructor(options: any) {
      this.entry = { options, sent: [] };
      rec.windows.push(this.entry);
      this.webContents = { send: (...a: any[]) => this.entry.sent.push(a) };
      BrowserWindow.all.push(this);
    }
    loadURL(url: string) {
      this.entry.loaded = url;
      return Promise.resolve();
    }
    once() {}
    on() {}
    show() {}
  }
  const electron = {
    app: {
      setPath: (name: string, p: string) => {
        if (name === 'userData') userData = p;
      },
      getPath: () => userData,
      requestSingleInstanceLock: () => lock,
      on: (ev: string, fn: Fn) => rec.appEvents.set(ev, [...(rec.appEvents.get(ev) ?? []), fn]),
      whenReady: () => Promise.resolve(),
      quit: () => {
        rec.quit++;
      },
      exit: () => {},
    },
    BrowserWindow,
    ipcMain: { handle: (ch: string, fn: Fn) => rec.ipc.set(ch, fn) },
    protocol: {
      registerSchemesAsPrivileged: (s: any[]) => rec.privileged.push(...s),
      handle: (scheme: string, fn: Fn) => rec.protocols.set(scheme, fn),
    },
    net: {
      fetch: async (url: string) => new Response(fs.readFileSync(new URL(url))),
    },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (fn: Fn) => (rec.headersHook = fn) },
        setPermissionRequestHandler: (fn: Fn) => (rec.permissionHandler = fn),
        setPermissionCheckHandler: () => {},
      },
    },
    Menu: {
      buildFromTemplate: (t: any[]) => t,
      setApplicationMenu: (t: any[]) => (rec.menu = t),
    },
    Notification: class {
      static isSupported() {
        return false;
      }
    },
    dialog: { showErrorBox: () => {}, showMessageBox: () => Promise.resolve() },
    shell: { openExternal: (u: string) => rec.opened.push(u) },
    safeStorage: {
      isEncryptionAvailable: () => true,
      encryptString: (s: string) => Buffer.from(`os-wrapped:${Buffer.from(s).toString('hex')}`),
      decryptString: (b: Buffer) => Buffer.from(b.toString().slice('os-wrapped:'.length), 'hex').toString(),
    },
    contextBridge: { exposeInMainWorld: (k: string, v: any) => rec.exposed.set(k, v) },
    ipcRenderer: {
      invoke: (...a: any[]) => {
        rec.invoked.push(a);
        return Promise.resolve({ ok: true, value: 'pong' });
      },
      on: (ch: string, fn: Fn) => rec.rendererListeners.set(ch, [...(rec.rendererListeners.get(ch) ?? []), fn]),
      removeListener: (ch: string, fn: Fn) => rec.rendererListeners.set(ch, (rec.rendererListeners.get(ch) ?? []).filter((f) => f !== fn)),
    },
  };
  return { electron, rec };
}

/** Loads a CommonJS bundle with `require('electron')` answered by the stand-in. */
function loadWith(bundle: string, electron: unknown): void {
  const M = Module as unknown as { _load: Fn };
  const original = M._load;
  M._load = function (request: string, ...rest: any[]) {
    if (request === 'electron') return electron;
    return original.call(this, request, ...rest);
  };
  try {
    const req = Module.createRequire(bundle);
    delete req.cache[bundle];
    req(bundle);
  } finally {
    M._load = original;
  }
}

const tick = () => new Promise((r) => setTimeout(r, 50));

describe('built Electron main bundle', () => {
  const tmp = tempDir();
  let rec: Recorder;
  const mainBundle = path.join(OUT, 'main', 'index.js');

  beforeAll(async () => {
    ensureBuilt();
    process.env.LPS_DATA_DIR = tmp.dir;
    const s = standIn(true);
    rec = s.rec;
    loadWith(mainBundle, s.electron);
    await tick();
  });
  afterAll(async () => {
    for (const fn of rec.appEvents.get('will-quit') ?? []) fn({ preventDefault() {} });
    await tick();
    delete process.env.LPS_DATA_DIR;
    tmp.cleanup();
  });

  it('opens one sandboxed, isolated window without Node, with the built preload', () => {
    expect(rec.windows).toHaveLength(1);
    const wp = rec.windows[0]!.options.webPreferences;
    expect(wp).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
    expect(wp.preload).toBe(path.join(OUT, 'preload', 'index.cjs'));
    expect(fs.existsSync(wp.preload)).toBe(true);
    expect(rec.windows[0]!.options.minWidth).toBe(1280);
    expect(rec.windows[0]!.loaded).toBe('app://lps/index.html');
  });

  it('serves the renderer from app:// with the strict CSP and nothing outside it', async () => {
    expect(rec.privileged[0]).toMatchObject({ scheme: 'app', privileges: { standard: true, secure: true } });
    expect(rec.privileged.map((p) => p.scheme)).toContain('lps-imaging');
    const handler = rec.protocols.get('app')!;
    const ok: Response = await handler(new Request('app://lps/index.html'));
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toBe(RENDERER_CSP);
    expect(await ok.text()).toContain('<div id="root">');
    const escape: Response = await handler(new Request('app://lps/..%2f..%2fpackage.json'));
    expect(escape.status).toBe(404);
    const other: Response = await handler(new Request('app://evil/index.html'));
    expect(other.status).toBe(404);
    expect(RENDERER_CSP).toMatch(/default-src 'none'/);
    expect(RENDERER_CSP).not.toMatch(/'unsafe-inline'|'unsafe-eval'|https?:|\*/);
  });

  it('adds the CSP to every response and refuses permission requests', () => {
    let out: any;
    rec.headersHook!({ responseHeaders: { a: ['b'] } }, (r: any) => (out = r));
    expect(out.responseHeaders['Content-Security-Policy']).toEqual([RENDERER_CSP]);
    let granted: boolean | undefined;
    rec.permissionHandler!({}, 'media', (g: boolean) => (granted = g));
    expect(granted).toBe(false);
  });

  it('wires IPC to the handler registry, trusting only the app origin', async () => {
    const invoke = rec.ipc.get('lps:invoke')!;
    const trusted = { senderFrame: { url: 'app://lps/index.html' } };
    expect(await invoke(trusted, 'app.echo', { text: 'salut' })).toMatchObject({ ok: true, value: { text: 'salut' } });
    expect(await invoke(trusted, 'app.echo', { text: 1 })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await invoke({ senderFrame: { url: 'https://evil.example/' } }, 'app.echo', { text: 'x' })).toMatchObject({
      ok: false,
      error: { code: 'FORBIDDEN' },
    });
    const info = await invoke(trusted, 'app.info', {});
    expect(info.value).toMatchObject({ runtime: 'electron', dataDir: tmp.dir });
  });

  it('protects the documents key with the OS keychain (safeStorage)', () => {
    const wrapped = fs.readFileSync(path.join(tmp.dir, 'keys', 'data-key.os-keychain'), 'utf8');
    expect(wrapped.startsWith('os-wrapped:')).toBe(true);
    expect(fs.existsSync(path.join(tmp.dir, 'keys', 'data-key.file'))).toBe(false);
  });

  it('pushes core events to the window', async () => {
    const invoke = rec.ipc.get('lps:invoke')!;
    await invoke({ senderFrame: { url: 'app://lps/index.html' } }, 'profile.choose', { profile: 'sandbox' });
    const sent = rec.windows[0]!.sent;
    expect(sent.some(([ch, name]) => ch === 'lps:event' && name === 'audit.appended')).toBe(true);
  });

  it('blocks navigation and new windows, sending https links to the system browser', () => {
    const handlers = new Map<string, Fn>();
    let openHandler: Fn | undefined;
    const contents = { on: (ev: string, fn: Fn) => handlers.set(ev, fn), setWindowOpenHandler: (fn: Fn) => (openHandler = fn) };
    for (const fn of rec.appEvents.get('web-contents-created') ?? []) fn({}, contents);
    let prevented = 0;
    const ev = { preventDefault: () => prevented++ };
    handlers.get('will-navigate')!(ev, 'https://www.ameli.fr/');
    handlers.get('will-navigate')!(ev, 'file:///etc/passwd');
    handlers.get('will-attach-webview')!(ev);
    expect(prevented).toBe(3);
    expect(openHandler!({ url: 'https://esante.gouv.fr/' })).toEqual({ action: 'deny' });
    expect(openHandler!({ url: 'javascript:alert(1)' })).toEqual({ action: 'deny' });
    expect(rec.opened).toEqual(['https://www.ameli.fr/', 'https://esante.gouv.fr/']);
  });

  it('has a French application menu', () => {
    const labels = rec.menu!.map((m) => m.label);
    expect(labels).toEqual(expect.arrayContaining(['Fichier', 'Édition', 'Affichage', 'Fenêtre', 'Aide']));
    const edit = rec.menu!.find((m) => m.label === 'Édition');
    expect(edit.submenu.map((i: any) => i.label)).toContain('Coller');
  });
});

describe('built Electron main bundle, second instance', () => {
  it('quits without opening a window when another instance holds the lock', async () => {
    ensureBuilt();
    const { electron, rec } = standIn(false);
    loadWith(path.join(OUT, 'main', 'index.js'), electron);
    await tick();
    expect(rec.quit).toBe(1);
    expect(rec.windows).toHaveLength(0);
  });
});

describe('built preload bundle', () => {
  it('exposes only invoke/on on window.lps, forwarding to the IPC channels', async () => {
    ensureBuilt();
    const { electron, rec } = standIn(true);
    loadWith(path.join(OUT, 'preload', 'index.cjs'), electron);
    expect([...rec.exposed.keys()]).toEqual(['lps']);
    const lps = rec.exposed.get('lps');
    expect(Object.keys(lps).sort()).toEqual(['invoke', 'on', 'streamUrl']);
    expect(lps.streamUrl('lps-imaging', '/wado/h1/x')).toBe('lps-imaging://wado/h1/x');
    expect(Object.isFrozen(lps)).toBe(true);
    expect(await lps.invoke('app.echo', { text: 'x' })).toEqual({ ok: true, value: 'pong' });
    expect(rec.invoked[0]).toEqual(['lps:invoke', 'app.echo', { text: 'x' }]);
    const got: unknown[] = [];
    const off = lps.on('notification', (p: unknown) => got.push(p));
    const [listener] = rec.rendererListeners.get('lps:event')!;
    listener!({}, 'notification', { title: 'a' });
    listener!({}, 'audit.appended', { id: 1 });
    expect(got).toEqual([{ title: 'a' }]);
    off();
    expect(rec.rendererListeners.get('lps:event')).toEqual([]);
  });
});

describe.skipIf(!softhsmModule())('built Electron main bundle: identity wiring (safeStorage vault, select-client-certificate)', () => {
  const tmp = tempDir('lps-bundle-id-');
  const mainBundle = path.join(OUT, 'main', 'index.js');
  const pemOf = (v: string) => (fs.existsSync(v) ? fs.readFileSync(v, 'utf8') : v);
  let provider: RunningProvider;
  let token: Awaited<ReturnType<typeof testIdentity>>['token'];
  let serverPem: string;
  const started: Recorder[] = [];
  const pscOpened: string[] = [];
  const practitioner = sandboxPractitioner('bundle-pw');

  /** Starts the bundle (one app start); PSC pages opened with shell.openExternal are driven over HTTP. */
  async function startApp(): Promise<Recorder> {
    const s = standIn(true);
    s.electron.shell.openExternal = (u: string) => {
      pscOpened.push(u);
      return driveLoginOverHttp(u, practitioner);
    };
    loadWith(mainBundle, s.electron);
    await tick();
    started.push(s.rec);
    return s.rec;
  }
  const invoke = (rec: Recorder, method: string, input: unknown) => rec.ipc.get('lps:invoke')!({ senderFrame: { url: 'app://lps/index.html' } }, method, input);
  const selectCert = (rec: Recorder, list: any[]) => {
    let prevented = false;
    let chosen: any = 'not called';
    for (const fn of rec.appEvents.get('select-client-certificate') ?? []) {
      fn({ preventDefault: () => (prevented = true) }, {}, 'https://dmp.sandbox.test/ws', list, (c?: any) => (chosen = c));
    }
    return { prevented, chosen };
  };

  beforeAll(async () => {
    ensureBuilt();
    const id = await testIdentity(path.join(tmp.dir, 'id'));
    token = id.token;
    serverPem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(fs.readFileSync(id.pki.serverCert, 'utf8'))![0];
    provider = await startSandboxPscProvider({ host: '127.0.0.1', port: await freePort(), clientId: 'lps-companion', introspectionClientId: 'mail', introspectionClientSecret: 'x', accessTokenTtl: 120, refreshTokenTtl: 600, practitioners: [practitioner] });
    // The settings a user would enter: card module (SoftHSM stands for the CPS middleware) and PSC registration.
    const data = path.join(tmp.dir, 'data');
    const pre = createCore({ dataDir: data, runtime: 'node' });
    pre.settings.set('identity.pkcs11Module', token.module);
    pre.settings.set('identity.psc', { issuer: provider.issuer, clientId: 'lps-companion' });
    await pre.close();
    process.env.SOFTHSM2_CONF = token.softhsmConf;
    process.env.LPS_DATA_DIR = data;
  }, 60_000);
  afterAll(async () => {
    for (const rec of started) for (const fn of rec.appEvents.get('will-quit') ?? []) fn({ preventDefault() {} });
    await tick();
    await provider?.close();
    delete process.env.LPS_DATA_DIR;
    delete process.env.SOFTHSM2_CONF;
    tmp.cleanup();
  });

  it('select-client-certificate picks the signed-in card’s authentication certificate, and none without a card session', async () => {
    const rec = await startApp();
    const card = { data: pemOf(token.authCertPem), fingerprint: 'sha256/not-checked-first', issuerName: 'TEST AC IGC-SANTE ELEMENTAIRE PERSONNES' };
    const other = { data: serverPem, fingerprint: 'sha256/other', issuerName: 'TEST AC IGC-SANTE ELEMENTAIRE ORGANISATIONS' };
    // Not signed in: Electron's default (first certificate of the store) is prevented, no certificate is sent.
    expect(selectCert(rec, [other, card])).toEqual({ prevented: true, chosen: undefined });
    expect(await invoke(rec, 'identity.card.login', { pin: '4321' })).toMatchObject({ ok: true, value: { loggedIn: true } });
    expect(selectCert(rec, [other, card])).toEqual({ prevented: true, chosen: card });
    // Matching by Electron's fingerprint form too (sha256/base64 of the DER) when the PEM is not given.
    const der = Buffer.from(pemOf(token.authCertPem).replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const byFp = { data: '', fingerprint: `sha256/${crypto.createHash('sha256').update(der).digest('base64')}` };
    expect(selectCert(rec, [other, byFp]).chosen).toBe(byFp);
    await invoke(rec, 'identity.session.signOut', {});
    expect(selectCert(rec, [other, card]).chosen).toBeUndefined();
  });

  it('keeps the PSC refresh token encrypted with safeStorage and restores the session at the next start', async () => {
    const rec = started[0]!;
    const login = await invoke(rec, 'identity.psc.login', {});
    expect(login).toMatchObject({ ok: true, value: { identity: { nationalId: practitioner.nationalId } } });
    expect(pscOpened[0]).toContain(provider.issuer); // the system browser (shell.openExternal)
    const check = createCore({ dataDir: process.env.LPS_DATA_DIR!, runtime: 'node' });
    const stored = check.settings.get<string>('identity.psc.refresh');
    await check.close();
    expect(Buffer.from(stored!, 'base64').toString().startsWith('os-wrapped:')).toBe(true); // the stand-in safeStorage's ciphertext

    // Next start of the app: the session comes back from the vault, without a browser.
    const opened = pscOpened.length;
    const again = await startApp();
    let session: any;
    for (let i = 0; i < 40 && session?.status !== 'signed-in'; i++) {
      session = (await invoke(again, 'identity.session.get', {})).value;
      if (session?.status !== 'signed-in') await tick();
    }
    expect(session).toMatchObject({ status: 'signed-in', method: 'psc', restored: true, practitioner: { nationalId: practitioner.nationalId } });
    expect(pscOpened.length).toBe(opened);
  });
});
