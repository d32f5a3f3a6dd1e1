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
import { buildExtrinsicObject, type DocumentEntry } from '../src/main/dmp/ebrim';
import { ACTIONS, responseAction } from '../src/main/dmp/protocol';
import { buildResponseEnvelope } from '../src/main/dmp/soap';
import { buildAdhocQueryResponse } from '../src/main/dmp/xds-messages';
import { parseWithXmldom, parseXml, usesFastParser } from '../src/main/xml/safe-xml';
import { HAS_SHARED, sharedPath } from '../test/support/shared';

function entry(i: number): DocumentEntry {
  const id = `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  return {
    entryUuid: id,
    uniqueId: `1.2.250.1.999.1.${i}`,
    logicalId: id,
    version: '1',
    status: 'urn:oasis:names:tc:ebxml-regrep:StatusType:Approved',
    mimeType: 'text/xml',
    hash: 'da39a3ee5e6b4b0d3255bfef95601890afd80709',
    size: 1234 + i,
    repositoryUniqueId: '1.2.250.1.213.1.4.12.99.1',
    title: `Compte rendu n° ${i}`,
    patientId: '279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH',
    sourcePatientId: '279035121518989^^^&1.2.250.1.213.1.4.10&ISO^NH',
    sourcePatientInfo: ['PID-5|PAT-TROIS^DOMINIQUE^^^^^L', 'PID-7|19790328', 'PID-8|F'],
    creationTime: '20250101120000',
    serviceStartTime: '20250101110000',
    languageCode: 'fr-FR',
    authors: [{ person: '810001234567^DUPONT^JEAN^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS', institutions: ['CABINET^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^10B0012345'], roles: [], specialties: ['G15_10/SM54^Médecine générale^1.2.250.1.213.1.1.4.5'] }],
    classCode: { code: '10', scheme: '1.2.250.1.213.1.1.4.1', display: 'Compte rendu' },
    typeCode: { code: '11488-4', scheme: '2.16.840.1.113883.6.1', display: 'CR de consultation' },
    formatCode: { code: 'urn:ihe:iti:xds-sd:pdf:2008', scheme: '1.3.6.1.4.1.19376.1.2.3', display: 'PDF' },
    healthcareFacilityTypeCode: { code: 'SA07', scheme: '1.2.250.1.71.4.2.4', display: 'Cabinet individuel' },
    practiceSettingCode: { code: 'AMBULATOIRE', scheme: '1.2.250.1.213.1.1.4.9', display: 'Ambulatoire' },
    confidentialityCodes: [{ code: 'N', scheme: '2.16.840.1.113883.5.25', display: 'Normal' }],
    eventCodes: i % 3 === 0 ? [{ code: 'CT', scheme: '1.2.840.10008.2.16.4', display: 'CT' }] : [],
    referenceIds: i % 3 === 0 ? [`ACC${i}^^^&1.2.3&ISO^urn:ihe:iti:xds:2013:accession`] : [],
  };
}

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
  const objects = Array.from({ length: 500 }, (_, i) => buildExtrinsicObject(entry(i))).join('');
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
