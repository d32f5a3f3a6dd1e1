import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { memoryPages } from 'xmllint-wasm';
import { parseXml } from '../xml/safe-xml';

/**
 * Validation of SOAP bodies of ITI-41/43/18/57 against the IHE XDS.b + ebRS 3.0 schemas (the shared
 * `schemas/ebrs30` folder, never copied into the repo) with libxml2 compiled to wasm. `IHE/IHEXDSB.xsd` imports
 * the whole ebRS set, so it validates ProvideAndRegister, Retrieve, AdhocQuery and SubmitObjects bodies alike.
 */

export interface SchemaResult {
  valid: boolean;
  errors: string[];
}

interface Loaded {
  main: { fileName: string; contents: string };
  preload: { fileName: string; contents: string }[];
}

const cache = new Map<string, Loaded>();

function load(schemaDir: string): Loaded {
  const hit = cache.get(schemaDir);
  if (hit) return hit;
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const f of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith('.xsd')) files.push(p);
    }
  };
  walk(schemaDir);
  const mainPath = path.join(schemaDir, 'IHE', 'IHEXDSB.xsd');
  if (!fs.existsSync(mainPath)) throw new Error(`schema not found: ${mainPath}`);
  // Names relative to the main schema's folder (IHE/): the imports (`../ebRS30/…`, `../xml.xsd`) resolve to them.
  const rel = (p: string): string => path.relative(path.dirname(mainPath), p).split(path.sep).join('/');
  const loaded: Loaded = {
    // libxml2 takes one schema document per namespace from imports: rim.xsd's import of IHE/xcf.xsd (the
    // xds-b `Document` element) would be skipped while IHEXDSB.xsd is the main document. A driver schema in
    // the xds-b namespace includes both, so every xds-b component is there.
    main: {
      fileName: 'lps-xdsb-driver.xsd',
      contents:
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:ihe:iti:xds-b:2007" elementFormDefault="qualified">' +
        '<xs:include schemaLocation="IHEXDSB.xsd"/><xs:include schemaLocation="xcf.xsd"/></xs:schema>',
    },
    preload: files.map((f) => ({ fileName: rel(f), contents: fs.readFileSync(f, 'utf8') })),
  };
  cache.set(schemaDir, loaded);
  return loaded;
}

/**
 * xmllint-wasm starts a worker and compiles libxml2 (wasm) at every call (~1 s here). We keep one worker alive
 * with the wasm compiled once, and run the same Emscripten program (xmllint --schema … --noout) per request.
 */
const WORKER_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const Factory = require(workerData.modulePath);
const wasmModule = new WebAssembly.Module(fs.readFileSync(workerData.wasmPath));
parentPort.on('message', async (msg) => {
  if (!msg || msg.lpsSchema !== true) return;
  let stderr = '';
  let done = false;
  const finish = (code) => {
    if (done) return;
    done = true;
    process.exitCode = 0;
    parentPort.postMessage({ lpsSchema: true, id: msg.id, code, stderr });
  };
  try {
    await Factory({
      inputFiles: msg.inputFiles,
      arguments: msg.args,
      print: () => {},
      printErr: (t) => { stderr += t + '\\n'; },
      onExit: finish,
      onAbort: (r) => { stderr += 'abort: ' + r; finish(-1); },
      wasmMemory: new WebAssembly.Memory({ initial: msg.initial, maximum: msg.max }),
      instantiateWasm: (imports, cb) => {
        WebAssembly.instantiate(wasmModule, imports).then((inst) => cb(inst, wasmModule), (e) => { stderr += String(e); finish(-1); });
        return {};
      },
    });
  } catch (e) {
    if (!done) { stderr += String(e && e.message || e); finish(-1); }
  }
});
`;

let worker: Worker | undefined;
let seq = 0;
const pending = new Map<number, { resolve: (r: { code: number; stderr: string }) => void; reject: (e: Error) => void }>();

function getWorker(): Worker {
  if (worker) return worker;
  const modulePath = require.resolve('xmllint-wasm/xmllint-node.js');
  const w = new Worker(WORKER_CODE, { eval: true, workerData: { modulePath, wasmPath: path.join(path.dirname(modulePath), 'xmllint.wasm') } });
  w.on('message', (m: { lpsSchema?: boolean; id: number; code: number; stderr: string }) => {
    if (!m || m.lpsSchema !== true) return;
    const p = pending.get(m.id);
    pending.delete(m.id);
    if (pending.size === 0) w.unref();
    p?.resolve({ code: m.code, stderr: m.stderr });
  });
  w.on('error', (err) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
    worker = undefined;
  });
  w.on('exit', () => {
    for (const p of pending.values()) p.reject(new Error('schema validation worker exited'));
    pending.clear();
    worker = undefined;
  });
  w.unref();
  worker = w;
  return w;
}

/** Validates one XML element (serialized, with its namespace declarations) against the XDS.b/ebRS schemas. */
export async function validateXdsBody(xml: string, schemaDir: string): Promise<SchemaResult> {
  parseXml(xml, 'XDS body'); // same DTD/entity rule before libxml2 sees it
  const { main, preload } = load(schemaDir);
  const bytes = Buffer.byteLength(xml);
  const w = getWorker();
  const id = ++seq;
  const result = await new Promise<{ code: number; stderr: string }>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    w.ref();
    w.postMessage({
      lpsSchema: true,
      id,
      inputFiles: [{ fileName: 'body.xml', contents: xml }, main, ...preload],
      args: ['--schema', main.fileName, '--noout', 'body.xml'],
      initial: memoryPages.MiB * 32,
      max: Math.min(memoryPages.GiB * 2, memoryPages.MiB * (64 + Math.ceil((bytes * 8) / 1048576))),
    });
  });
  if (result.code !== 0 && result.code !== 3 && result.code !== 4) throw new Error(`xmllint failed (${result.code}): ${result.stderr.slice(0, 500)}`);
  const errors = result.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/parser warning/i.test(l) && !/ validates$/.test(l) && !/fails to validate$/.test(l))
    .map((l) => l.replace(/^[^:]*:\d+:\s*/, ''));
  return { valid: result.code === 0, errors: errors.slice(0, 20) };
}
