/**
 * `npm run dev:web`: the renderer in a plain browser against the real handlers, on loopback.
 * Options: --port N (default: a free port), --no-build (serve the existing out/renderer).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { createCore } from '../main/handlers';
import { resolveDataDir } from '../main/store/paths';
import { startHarness } from './server';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const root = path.resolve(__dirname, '..', '..');
  const rendererDir = path.join(root, 'out', 'renderer');
  if (!args.includes('--no-build')) {
    const r = spawnSync(process.execPath, [path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  const portArg = args.indexOf('--port');
  const port = portArg >= 0 ? Number(args[portArg + 1]) : 0;
  const core = createCore({ dataDir: resolveDataDir(), runtime: 'harness' });
  const harness = await startHarness({ core, rendererDir, port });
  process.stdout.write(`\nCompagnon LPS — banc d'essai navigateur\n  Ouvrez : ${harness.url}\n  Données : ${core.dataDir}\n  (Ctrl+C pour arrêter)\n`);
  const stop = async () => {
    await harness.close();
    await core.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

void main();
