import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const OUT = path.join(ROOT, 'out');

const OUTPUTS = ['main/index.js', 'main/mail-read.worker.js', 'preload/index.cjs', 'renderer/index.html'].map((p) => path.join(OUT, p));
const SOURCES = ['src/main', 'src/preload', 'src/renderer', 'src/shared'].map((p) => path.join(ROOT, p));

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function isStale(): boolean {
  if (!OUTPUTS.every((p) => fs.existsSync(p))) return true;
  const built = Math.min(...OUTPUTS.map((p) => fs.statSync(p).mtimeMs));
  return SOURCES.some((d) => newestMtime(d) > built);
}

/**
 * Builds the three bundles with electron-vite when they are absent or older than the sources (the test
 * command builds first; this keeps a local run from testing a stale renderer). One build at a time across
 * test workers (a lock directory).
 */
export function ensureBuilt(): void {
  if (!isStale()) return;
  const lock = path.join(ROOT, '.build-lock');
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`build lock ${lock} held for too long`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (!isStale()) return; // another worker built it meanwhile
    const r = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`electron-vite build failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
