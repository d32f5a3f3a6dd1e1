import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const OUT = path.join(ROOT, 'out');

/** Builds the three bundles with electron-vite when they are absent (the test command builds first). */
export function ensureBuilt(): void {
  const needed = ['main/index.js', 'preload/index.cjs', 'renderer/index.html'].map((p) => path.join(OUT, p));
  if (needed.every((p) => fs.existsSync(p))) return;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`electron-vite build failed:\n${r.stdout}\n${r.stderr}`);
}
