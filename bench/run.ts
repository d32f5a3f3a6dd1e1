/**
 * `npm run bench`: runs every `bench/*.bench.ts` in its own process, one after the other (so they do not
 * disturb each other's figures), or only those whose name contains one of the arguments.
 * Each bench prints its figures next to a baseline it measured in the same run.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const dir = __dirname;
const filters = process.argv.slice(2);
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

let failed = 0;
for (const f of files) {
  process.stdout.write(`\n=== ${f}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', path.join(dir, f)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`!!! ${f} failed (exit ${r.status})\n`);
  }
}
process.stdout.write(`\n${files.length - failed} benchmark file(s) ok, ${failed} failed\n`);
process.exit(failed ? 1 : 0);
