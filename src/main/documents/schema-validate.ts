/**
 * XSD validation in Node with xmllint-wasm (libxml2 in wasm; no network, no file system access: every
 * schema file is preloaded from memory). Input is pre-checked by safe-xml first, so xmllint never sees a
 * DTD or an entity. The third-party schemas are not shipped in the repo: they are looked up in
 * `LPS_SCHEMAS_DIR`, or `../shared/schemas` beside the clone.
 */
import fs from 'node:fs';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { parseXml } from '../xml/safe-xml';

export type SchemaName = 'cda' | 'lcm' | 'iheXdsb';

const MAIN: Record<SchemaName, { folder: string; main: string }> = {
  cda: { folder: 'cda', main: 'CDA_extended.xsd' },
  lcm: { folder: 'ebrs30', main: 'ebRS30/lcm.xsd' },
  iheXdsb: { folder: 'ebrs30', main: 'IHE/IHEXDSB.xsd' },
};

/** Where the schemas are, or null. */
export function schemaDirectory(override?: string): string | null {
  const candidates = [
    override,
    process.env.LPS_SCHEMAS_DIR,
    path.resolve(__dirname, '..', '..', '..', '..', 'shared', 'schemas'),
    path.resolve(process.cwd(), '..', 'shared', 'schemas'),
  ].filter((x): x is string => !!x);
  for (const c of candidates) if (fs.existsSync(path.join(c, 'cda', 'CDA_extended.xsd')) || fs.existsSync(path.join(c, 'ebrs30'))) return c;
  return null;
}

interface Loaded {
  main: { fileName: string; contents: string };
  preload: { fileName: string; contents: string }[];
}
const cache = new Map<string, Loaded>();

function listXsd(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listXsd(p));
    else if (e.name.endsWith('.xsd')) out.push(p);
  }
  return out;
}

function load(dir: string, name: SchemaName): Loaded {
  const key = `${dir}|${name}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const m = MAIN[name];
  const folder = path.join(dir, m.folder);
  const mainPath = path.join(folder, m.main);
  const mainDir = path.dirname(mainPath);
  const preload = listXsd(folder)
    .filter((p) => p !== mainPath)
    .map((p) => ({ fileName: path.relative(mainDir, p).split(path.sep).join('/'), contents: fs.readFileSync(p, 'utf8') }));
  const loaded = { main: { fileName: path.basename(mainPath), contents: fs.readFileSync(mainPath, 'utf8') }, preload };
  cache.set(key, loaded);
  return loaded;
}

export interface SchemaResult {
  valid: boolean;
  errors: { message: string; line?: number }[];
}

/** Validates; null when the schema folder is not available. Throws XML_INVALID for hostile input. */
export async function validateXmlWithSchema(xml: string | Buffer, name: SchemaName, opts: { schemaDir?: string } = {}): Promise<SchemaResult | null> {
  const dir = schemaDirectory(opts.schemaDir);
  if (!dir) return null;
  const text = typeof xml === 'string' ? xml : xml.toString('utf8');
  parseXml(text, 'XML'); // the same no-DTD/no-entity rule before xmllint sees anything
  const s = load(dir, name);
  const r = await validateXML({
    xml: { fileName: 'document.xml', contents: text },
    schema: s.main,
    preload: s.preload,
    maxMemoryPages: 16384,
  });
  return { valid: r.valid, errors: r.errors.map((e) => ({ message: e.message, ...(e.loc ? { line: e.loc.lineNumber } : {}) })) };
}
