/**
 * Documents benchmark: XDM pack / inspect throughput with 1 MB PDF bodies, CDA parse time, and peak memory
 * while inspecting a ~200 MB archive generated on the fly in a temp dir. Baseline measured in the same run:
 * raw SHA-1 + copy of the same bytes (the floor any pack/inspect must pay).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCda, parseCda, readXdm, writeXdm, type ParsedCda } from '../src/main/documents';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lps-bench-docs-'));
const examples = path.resolve(__dirname, '..', 'examples');
const request = JSON.parse(fs.readFileSync(path.join(examples, 'cda-request.json'), 'utf8'));

function pdfOf(bytes: number): string {
  const file = path.join(tmp, `body-${bytes}.pdf`);
  const filler = crypto.randomBytes(bytes); // incompressible, like a real scanned PDF
  fs.writeFileSync(file, Buffer.concat([Buffer.from('%PDF-1.4\n'), filler, Buffer.from('\n%%EOF\n')]));
  return file;
}

function docWith(pdf: string): ParsedCda {
  return buildCda({ ...request, document: { ...request.document, pdf } }, { baseDir: tmp }).parsed;
}

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);

function fmt(n: number, d = 1): string {
  return n.toFixed(d);
}

async function main(): Promise<void> {
  const oneMb = pdfOf(1024 * 1024);
  const N = 20;
  const docs = Array.from({ length: N }, () => docWith(oneMb));

  // baseline: hash + copy the bytes
  let t = performance.now();
  for (const d of docs) {
    crypto.createHash('sha1').update(d.bytes).digest('hex');
    Buffer.from(d.bytes);
  }
  const baseMs = performance.now() - t;

  t = performance.now();
  const w = await writeXdm(docs, { sourceId: '1.2.250.1.999.1' });
  const packMs = performance.now() - t;

  t = performance.now();
  const r = await readXdm(w.zip!, { workDir: tmp });
  const inspectMs = performance.now() - t;
  if (r.documents.some((d) => !d.hashValid)) throw new Error('bench: hash mismatch');
  r.cleanup();

  console.log(`XDM pack    ${N} docs (1 MB PDF each): ${fmt((N / packMs) * 1000)} docs/s  (${fmt(packMs, 0)} ms)`);
  console.log(`XDM inspect ${N} docs (1 MB PDF each): ${fmt((N / inspectMs) * 1000)} docs/s  (${fmt(inspectMs, 0)} ms)`);
  console.log(`baseline SHA-1 + copy of the same bytes: ${fmt((N / baseMs) * 1000)} docs/s  (${fmt(baseMs, 0)} ms)`);

  // CDA parse times
  const sharedCda = path.resolve(__dirname, '..', '..', 'shared', 'fixtures', 'cda-ans');
  const files = fs.existsSync(sharedCda) ? fs.readdirSync(sharedCda).map((f) => path.join(sharedCda, f)) : [];
  const samples: [string, Buffer][] = [['generated level-1 (1 MB PDF)', docs[0]!.bytes], ...files.map((f) => [path.basename(f), fs.readFileSync(f)] as [string, Buffer])];
  for (const [name, bytes] of samples) {
    parseCda(bytes);
    const reps = 10;
    t = performance.now();
    for (let i = 0; i < reps; i++) parseCda(bytes);
    const ms = (performance.now() - t) / reps;
    t = performance.now();
    for (let i = 0; i < reps; i++) crypto.createHash('sha1').update(bytes).digest();
    const hashMs = (performance.now() - t) / reps;
    console.log(`CDA parse ${name} (${fmt(bytes.length / 1024, 0)} KB): ${fmt(ms, 2)} ms  (baseline SHA-1: ${fmt(hashMs, 3)} ms)`);
  }

  // ~200 MB archive on disk, inspected by path
  const big = docWith(pdfOf(10 * 1024 * 1024));
  const bigDocs = Array.from({ length: 20 }, () => big);
  const zipPath = path.join(tmp, 'big-IHE_XDM.zip');
  await writeXdm(bigDocs, { sourceId: '1.2.250.1.999.1', outFile: zipPath });
  const zipSize = fs.statSync(zipPath).size;
  if (global.gc) global.gc();
  const rssBefore = process.memoryUsage().rss;
  peakRss = rssBefore;
  t = performance.now();
  const rb = await readXdm(zipPath, { workDir: tmp, limits: { maxParseBytes: 0 } });
  const bigMs = performance.now() - t;
  rb.cleanup();
  console.log(
    `inspect ${fmt(zipSize / 1024 / 1024, 0)} MB archive (${bigDocs.length} docs): ${fmt(bigMs, 0)} ms, ${fmt(zipSize / 1024 / 1024 / (bigMs / 1000))} MB/s, ` +
      `peak RSS +${fmt((peakRss - rssBefore) / 1024 / 1024)} MB over ${fmt(rssBefore / 1024 / 1024)} MB before (archive size ${fmt(zipSize / 1024 / 1024, 0)} MB)`,
  );
  if (peakRss - rssBefore > 150 * 1024 * 1024) {
    console.log('!!! inspect memory is not bounded (grew by more than 150 MB)');
    process.exitCode = 1;
  }
}

main()
  .catch((e) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(() => {
    clearInterval(sampler);
    fs.rmSync(tmp, { recursive: true, force: true });
  });
