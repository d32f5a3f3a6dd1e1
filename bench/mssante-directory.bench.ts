/**
 * MSSanté directory benchmark: import of a 500 000-row ANS-shaped extraction, then multi-criteria searches
 * (name, first name, profession, city, national id, free text — including the worst cases: a very common
 * profession in a big city). Target: every search < 50 ms. Baseline measured in the same run on the same
 * database: a primary-key-indexed lookup of one row by address (the floor of any SQLite query here).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCore } from '../src/main/handlers';
import { writeDirectoryExtraction } from './directory-data';

const N = Number(process.env.LPS_BENCH_DIRECTORY_ROWS ?? 500_000);
const TARGET_MS = 50;

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lps-bench-dir-'));
  try {
    const file = path.join(tmp, 'extraction.txt');
    let t = performance.now();
    const samples = writeDirectoryExtraction(file, N);
    console.log(`generated ${N} rows (${(fs.statSync(file).size / 1e6).toFixed(1)} MB) in ${(performance.now() - t).toFixed(0)} ms`);
    const core = createCore({ dataDir: path.join(tmp, 'data'), runtime: 'node' });
    try {
      t = performance.now();
      const imp = await core.registry.call('mssante.directory.import', { file });
      console.log(`import: ${imp.rows} rows in ${(performance.now() - t).toFixed(0)} ms (${Math.round(imp.rows / ((performance.now() - t) / 1000))} rows/s)`);

      const queries: { label: string; q: Record<string, unknown> }[] = [];
      for (const s of samples) {
        queries.push({ label: 'name', q: { family: s.family } });
        queries.push({ label: 'name prefix', q: { family: s.family.slice(0, 3) } });
        queries.push({ label: 'name + first name', q: { family: s.family, given: s.given } });
        queries.push({ label: 'profession + city', q: { profession: s.profession, city: s.city } });
        queries.push({ label: 'name + profession + city', q: { family: s.family, profession: s.profession, city: s.city } });
        queries.push({ label: 'national id', q: { nationalId: s.nationalId } });
        queries.push({ label: 'free text', q: { text: `${s.given} ${s.family.slice(0, 4)}` } });
      }
      // Worst cases: the most common values.
      queries.push({ label: 'worst: profession Médecin + city Paris', q: { profession: 'Médecin', city: 'Paris' } });
      queries.push({ label: 'worst: profession Médecin', q: { profession: 'medecin' } });
      queries.push({ label: 'worst: first name Marie', q: { given: 'Marie' } });
      queries.push({ label: 'worst: free text "ma"', q: { text: 'ma' } });

      // Baseline: indexed lookup by address, same database, same number of calls.
      const byAddress = core.db.prepare('SELECT * FROM mss_directory WHERE address = ?');
      const base: number[] = [];
      for (let round = 0; round < 3; round++) {
        for (const s of samples) {
          const t0 = performance.now();
          byAddress.get(s.address);
          base.push(performance.now() - t0);
        }
      }
      const byLabel = new Map<string, number[]>();
      let fails = 0;
      for (let round = 0; round < 3; round++) {
        for (const { label, q } of queries) {
          const t0 = performance.now();
          const r = await core.registry.call('mssante.directory.search', { ...q, limit: 20 });
          const ms = performance.now() - t0;
          if (!label.startsWith('worst') && r.total === 0) throw new Error(`bench: no result for ${label} ${JSON.stringify(q)}`);
          (byLabel.get(label) ?? byLabel.set(label, []).get(label)!).push(ms);
        }
      }
      console.log(`\nsearch over ${N} rows (3 rounds, through the handler registry), limit 20:`);
      for (const [label, v] of byLabel) {
        const max = Math.max(...v);
        if (max >= TARGET_MS) fails++;
        console.log(`  ${label.padEnd(42)} p50 ${pct(v, 50).toFixed(2).padStart(7)} ms   max ${max.toFixed(2).padStart(7)} ms${max >= TARGET_MS ? '   ABOVE TARGET' : ''}`);
      }
      console.log(`  ${'baseline: indexed lookup by address'.padEnd(42)} p50 ${pct(base, 50).toFixed(3).padStart(7)} ms   max ${Math.max(...base).toFixed(3).padStart(7)} ms`);
      console.log(`\ntarget: every search < ${TARGET_MS} ms — ${fails ? `${fails} query kind(s) above` : 'met'}`);
    } finally {
      await core.close();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
