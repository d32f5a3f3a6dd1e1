import os from 'node:os';
import path from 'node:path';

export const PRODUCT_NAME = 'Compagnon LPS';

/**
 * The data directory: `LPS_DATA_DIR` when set, else the per-OS location that Electron uses for
 * `userData` (so the CLI, the harness and the app share one store and one sandbox profile).
 */
export function resolveDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.LPS_DATA_DIR) return path.resolve(env.LPS_DATA_DIR);
  const home = os.homedir();
  switch (platform) {
    case 'win32':
      return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), PRODUCT_NAME);
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', PRODUCT_NAME);
    default:
      return path.join(env.XDG_CONFIG_HOME ?? path.join(home, '.config'), PRODUCT_NAME);
  }
}

export function storePath(dataDir: string): string {
  return path.join(dataDir, 'lps.sqlite');
}

export function sandboxDir(dataDir: string): string {
  return path.join(dataDir, 'sandbox');
}
