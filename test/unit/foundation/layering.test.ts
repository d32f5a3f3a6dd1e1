import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The layering rules, checked on every import of every source file:
 * - only the Electron bootstrap (src/main/index.ts, src/main/electron/) imports `electron`;
 * - the renderer imports nothing outside src/renderer and src/shared (and no Node built-ins);
 * - src/shared imports nothing from main, preload, renderer, cli or harness;
 * - main (domains) never imports the renderer, the preload, the harness or the CLI;
 * - the preload imports only electron and src/shared.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const SRC = path.join(ROOT, 'src');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return files(p);
    return /\.(ts|tsx)$/.test(e.name) ? [p] : [];
  });
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const specs: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(])import\s*\(\s*['"]([^'"]+)['"]\s*\)|require\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3] ?? m[4])!);
  return specs;
}

function layerOf(absPath: string): string {
  const rel = path.relative(SRC, absPath).split(path.sep);
  return rel[0] ?? '';
}

interface Violation {
  file: string;
  spec: string;
  rule: string;
}

function check(): Violation[] {
  const out: Violation[] = [];
  for (const file of files(SRC)) {
    const rel = path.relative(ROOT, file);
    const layer = layerOf(file);
    const isBootstrap = rel === path.join('src', 'main', 'index.ts') || rel.startsWith(path.join('src', 'main', 'electron') + path.sep);
    for (const spec of importsOf(file)) {
      const isRelative = spec.startsWith('.');
      const target = isRelative ? layerOf(path.resolve(path.dirname(file), spec)) : undefined;
      if ((spec === 'electron' || spec.startsWith('electron/')) && !(isBootstrap || layer === 'preload')) {
        out.push({ file: rel, spec, rule: 'only the Electron bootstrap and the preload import electron' });
      }
      if (layer === 'renderer') {
        if (isRelative && target !== 'renderer' && target !== 'shared') out.push({ file: rel, spec, rule: 'renderer imports only renderer and shared' });
        if (spec.startsWith('node:') || ['fs', 'path', 'child_process', 'os', 'net', 'crypto'].includes(spec)) {
          out.push({ file: rel, spec, rule: 'renderer uses no Node built-in' });
        }
      }
      if (layer === 'shared' && isRelative && target !== 'shared') out.push({ file: rel, spec, rule: 'shared imports only shared' });
      if (layer === 'main' && isRelative && target !== 'main' && target !== 'shared') {
        out.push({ file: rel, spec, rule: 'main imports only main and shared' });
      }
      if (layer === 'preload' && (isRelative ? target !== 'preload' && target !== 'shared' : spec !== 'electron')) {
        out.push({ file: rel, spec, rule: 'preload imports only electron and shared' });
      }
    }
  }
  return out;
}

describe('layering', () => {
  it('holds across the whole source tree', () => {
    expect(check()).toEqual([]);
  });

  it('sees the imports it checks (guards the checker itself)', () => {
    const boot = importsOf(path.join(SRC, 'main', 'electron', 'bootstrap.ts'));
    expect(boot).toContain('electron');
    expect(boot).toContain('../handlers');
    const preload = importsOf(path.join(SRC, 'preload', 'index.ts'));
    expect(preload).toContain('electron');
    expect(files(path.join(SRC, 'renderer')).length).toBeGreaterThan(3);
  });
});
