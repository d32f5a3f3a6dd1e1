import path from 'node:path';
import type { BrowserWindowConstructorOptions } from 'electron';

/** The main window's options: the renderer is sandboxed and isolated, with no Node access. */
export function mainWindowOptions(preloadDir: string, iconPath: string): BrowserWindowConstructorOptions {
  return {
    width: 1366,
    height: 860,
    minWidth: 1280,
    minHeight: 720,
    show: false,
    title: 'Compagnon LPS',
    icon: iconPath,
    backgroundColor: '#f5f7fa',
    webPreferences: {
      preload: path.join(preloadDir, 'index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: true,
      navigateOnDragDrop: false,
      safeDialogs: true,
    },
  };
}

/** Only https and mailto links leave the app, and only to the system browser / mail client. */
export function isExternalUrlAllowed(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'mailto:';
  } catch {
    return false;
  }
}
