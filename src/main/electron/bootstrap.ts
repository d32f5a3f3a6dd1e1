/**
 * The Electron bootstrap: windows, IPC, protocol, menu and OS integration only. Every capability lives
 * in the plain-Node core (`createCore`), shared with the CLI and the browser harness.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, net, Notification, protocol, safeStorage, session, shell } from 'electron';
import { APP_ORIGIN, APP_SCHEME, RENDERER_CSP, STREAM_SCHEMES } from '../../shared/security';
import { IPC_EVENT, IPC_INVOKE } from '../../shared/ipc';
import type { Core } from '../core/app-core';
import { productInfo } from '../core/version';
import { createCore } from '../handlers';
import { resolveDataDir } from '../store/paths';
import { menuTemplate } from './menu';
import { safeStorageProtector } from './safe-storage';
import { wireElectronIdentity } from './identity';
import { contentType, resolveRendererFile } from './renderer-files';
import { isExternalUrlAllowed, mainWindowOptions } from './window';

const RENDERER_DIR = path.join(__dirname, '..', 'renderer');
const PRELOAD_DIR = path.join(__dirname, '..', 'preload');
const ICON = path.join(__dirname, '..', '..', 'resources', 'icon.png');
const DEV_URL = process.env.ELECTRON_RENDERER_URL;

let core: Core | undefined;
let mainWindow: BrowserWindow | undefined;

// One store and one sandbox profile for the app, the CLI and the harness.
app.setPath('userData', resolveDataDir());

protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, codeCache: true } },
  ...STREAM_SCHEMES.map((scheme) => ({ scheme, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, corsEnabled: true } })),
]);

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.whenReady().then(start, (err: unknown) => {
    dialog.showErrorBox('Compagnon LPS', `Le démarrage a échoué : ${String(err)}`);
    app.exit(1);
  });
}

/** True when an IPC message comes from our own renderer (not from an injected frame or a remote page). */
export function isTrustedSender(frameUrl: string | undefined): boolean {
  if (!frameUrl) return false;
  if (frameUrl.startsWith(`${APP_ORIGIN}/`)) return true;
  return !!DEV_URL && frameUrl.startsWith(DEV_URL);
}

function start(): void {
  const info = productInfo();
  core = createCore({
    dataDir: app.getPath('userData'),
    runtime: 'electron',
    keyProtector: safeStorageProtector(),
    versions: { electron: process.versions.electron ?? '', chrome: process.versions.chrome ?? '' },
  });
  const c = core;
  // PSC through the system browser, refresh token in safeStorage (session restored), card mTLS via Chromium.
  wireElectronIdentity(c, { app, shell, safeStorage, net });

  // The renderer, served from app://lps/ with the CSP on every response.
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = url.host === 'lps' ? resolveRendererFile(RENDERER_DIR, url.pathname) : undefined;
    if (!file) return new Response('Not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).toString());
    return new Response(res.body, {
      status: 200,
      headers: { 'content-type': contentType(file), 'content-security-policy': RENDERER_CSP, 'x-content-type-options': 'nosniff' },
    });
  });

  // Streams (viewer images…): served by the core's handlers; the renderer never holds the tokens behind them.
  for (const [scheme, handler] of c.streams) protocol.handle(scheme, handler);

  const ses = session.defaultSession;
  ses.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [RENDERER_CSP] } });
  });
  // No camera, microphone, geolocation, notifications from the page…: the renderer asks main for everything.
  ses.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  ses.setPermissionCheckHandler(() => false);

  ipcMain.handle(IPC_INVOKE, async (event, method: unknown, input: unknown) => {
    if (!isTrustedSender(event.senderFrame?.url)) {
      return { ok: false, error: { code: 'FORBIDDEN', message: 'Appel refusé.', detail: 'untrusted sender frame' } };
    }
    return c.registry.invoke(method, input, { transport: 'ipc' });
  });
  c.events.onAny((name, payload) => {
    for (const w of BrowserWindow.getAllWindows()) w.webContents.send(IPC_EVENT, name, payload);
  });
  c.events.on('notification', (n) => {
    if (Notification.isSupported()) new Notification({ title: n.title, body: n.body ?? '' }).show();
  });

  const about = () => {
    void dialog.showMessageBox({
      type: 'info',
      title: `À propos de ${info.name}`,
      message: `${info.name} ${info.version}`,
      detail: `Electron ${process.versions.electron}\nChromium ${process.versions.chrome}\nNode.js ${process.versions.node}`,
    });
  };
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(process.platform === 'darwin', info.name, { about })));

  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

function createWindow(): void {
  const win = new BrowserWindow(mainWindowOptions(PRELOAD_DIR, fs.existsSync(ICON) ? ICON : ''));
  mainWindow = win;
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    mainWindow = undefined;
  });
  void win.loadURL(DEV_URL ?? `${APP_ORIGIN}/index.html`);
}

// Navigation and new windows are blocked everywhere; https/mailto links open in the system browser.
app.on('web-contents-created', (_event, contents) => {
  contents.on('will-navigate', (e, url) => {
    if (!isTrustedSender(url)) e.preventDefault();
    if (isExternalUrlAllowed(url)) void shell.openExternal(url);
  });
  contents.on('will-redirect', (e, url) => {
    if (!isTrustedSender(url)) e.preventDefault();
  });
  contents.on('will-attach-webview', (e) => e.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalUrlAllowed(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

app.on('will-quit', (e) => {
  if (!core) return;
  e.preventDefault();
  const c = core;
  core = undefined;
  void c.close().finally(() => app.quit());
});
