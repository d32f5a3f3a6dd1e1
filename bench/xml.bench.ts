/**
 * XML parsing: `parseXml` (our strict parser building xmldom nodes) next to xmldom's own DOMParser — the previous
 * `parseXml`, with its memoised grammar regexes — measured in the same run, interleaved, on the same texts:
 * the ANS CDA examples (../shared, when present), our own built CDA and XDM METADATA.XML, the NIST METADATA and a
 * generated 500-entry DMP TD3.1 (AdhocQueryResponse) SOAP response. Medians of interleaved runs, in process CPU
 * time (the machine is shared: wall time there mostly measures the neighbours), each sample a batch of parses
 * of at least ~5 ms.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildCda, writeXdm } from '../src/main/documents';
import { buildExtrinsicObject } from '../src/main/dmp/ebrim';
import { syntheticDmpEntry } from '../test/support/dmp-entries';
import { ACTIONS, responseAction } from '../src/main/dmp/protocol';
import { buildResponseEnvelope } from '../src/main/dmp/soap';
import { buildAdhocQueryResponse } from '../src/main/dmp/xds-messages';
import { parseWithXmldom, parseXml, usesFastParser } from '../src/main/xml/safe-xml';
import { HAS_SHARED, sharedPath } from '../test/support/shared';


function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function inputs(): Promise<{ name: string; text: string }[]> {
  const out: { name: string; text: string }[] = [];
  if (HAS_SHARED) {
    const dir = sharedPath('fixtures', 'cda-ans');
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.xml')).sort()) out.push({ name: `ANS ${f}`, text: fs.readFileSync(path.join(dir, f), 'utf8') });
    out.push({ name: 'NIST XDM METADATA.xml', text: fs.readFileSync(sharedPath('fixtures', 'xdm-nist', 'full', 'METADATA.xml'), 'utf8') });
  }
  const examples = path.resolve(__dirname, '..', 'examples');
  const built = buildCda(JSON.parse(fs.readFileSync(path.join(examples, 'cda-request.json'), 'utf8')), { baseDir: examples });
  out.push({ name: 'built CDA (examples/cda-request.json)', text: Buffer.from(built.bytes).toString('utf8') });
  out.push({ name: 'built XDM METADATA.XML', text: (await writeXdm([built.parsed], { sourceId: '1.2.250.1.999.1' })).metadataXml });
  const objects = Array.from({ length: 500 }, (_, i) => buildExtrinsicObject(syntheticDmpEntry(i))).join('');
  out.push({ name: 'DMP TD3.1 response, 500 entries', text: buildResponseEnvelope(responseAction(ACTIONS.td31), 'urn:uuid:x', buildAdhocQueryResponse(objects)) });
  return out;
}

async function main(): Promise<void> {
  if (!usesFastParser()) throw new Error('the fast parser is not in use (self-check against the installed xmldom failed)');
  const docs = await inputs();
  console.log('XML parsing, CPU ms per document, median of interleaved batches (machine shared: compare the columns of one run)');
  console.log(`${'document'.padEnd(48)} ${'KiB'.padStart(6)} | ${'xmldom ms'.padStart(10)} ${'MB/s'.padStart(6)} | ${'parseXml ms'.padStart(11)} ${'MB/s'.padStart(6)} | speed-up`);
  let totalA = 0;
  let totalB = 0;
  for (const { name, text } of docs) {
    const mb = Buffer.byteLength(text) / 1e6;
    const reps = 15;
    const batch = Math.max(1, Math.round(0.3 / Math.max(mb, 0.001)));
    const cpu = (fn: () => void): number => {
      const t = process.cpuUsage();
      for (let i = 0; i < batch; i++) fn();
      const d = process.cpuUsage(t);
      return (d.user + d.system) / 1000 / batch;
    };
    for (let i = 0; i < 3; i++) {
      parseWithXmldom(text);
      parseXml(text);
    }
    const a: number[] = [];
    const b: number[] = [];
    for (let i = 0; i < reps; i++) {
      a.push(cpu(() => parseWithXmldom(text)));
      b.push(cpu(() => parseXml(text)));
    }
    const ma = median(a);
    const mbb = median(b);
    totalA += ma;
    totalB += mbb;
    console.log(
      `${name.slice(0, 48).padEnd(48)} ${(Buffer.byteLength(text) / 1024).toFixed(0).padStart(6)} | ${ma.toFixed(2).padStart(10)} ${(mb / (ma / 1000)).toFixed(0).padStart(6)} | ${mbb.toFixed(2).padStart(11)} ${(mb / (mbb / 1000)).toFixed(0).padStart(6)} | ${(ma / mbb).toFixed(1).padStart(5)}×`,
    );
  }
  console.log(`${'all documents (sum of medians)'.padEnd(48)} ${''.padStart(6)} | ${totalA.toFixed(2).padStart(10)} ${''.padStart(6)} | ${totalB.toFixed(2).padStart(11)} ${''.padStart(6)} | ${(totalA / totalB).toFixed(1).padStart(5)}×`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
