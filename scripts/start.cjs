#!/usr/bin/env node
// Starts the app: Electron when its runtime is installed and a display is available, otherwise the
// browser harness on loopback (the same renderer and handlers, behind a per-run secret).
'use strict';
const { spawnSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const electronVite = path.join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js');

if (!args.includes('--no-build')) {
  const r = spawnSync(process.execPath, [electronVite, 'build'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function electronBinary() {
  try {
    const p = require(path.join(root, 'node_modules', 'electron'));
    return typeof p === 'string' && fs.existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

const hasDisplay = process.platform !== 'linux' || !!(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
const electron = electronBinary();
if (electron && hasDisplay && !args.includes('--web')) {
  // Native addons must match Electron's ABI: rebuild them for Electron before the first launch.
  spawnSync(process.execPath, [path.join(root, 'node_modules', 'electron-builder', 'cli.js'), 'install-app-deps'], { cwd: root, stdio: 'inherit' });
  const child = spawn(electron, [root], { stdio: 'inherit' });
  child.on('exit', (code) => {
    // Give the Node ABI back to the CLI and the tests.
    spawnSync('npm', ['rebuild', 'better-sqlite3'], { cwd: root, stdio: 'inherit' });
    process.exit(code ?? 0);
  });
} else {
  console.log(
    electron
      ? 'Pas d’affichage graphique : démarrage du banc d’essai navigateur.'
      : 'Runtime Electron absent : démarrage du banc d’essai navigateur (même interface, mêmes services).',
  );
  const tsx = path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const child = spawn(process.execPath, [tsx, path.join(root, 'src', 'harness', 'cli.ts'), '--no-build'], { cwd: root, stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}
