import fs from 'node:fs';
import path from 'node:path';
import { validateXML, memoryPages } from 'xmllint-wasm';
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

/** Validates one XML element (serialized, with its namespace declarations) against the XDS.b/ebRS schemas. */
export async function validateXdsBody(xml: string, schemaDir: string): Promise<SchemaResult> {
  parseXml(xml, 'XDS body'); // same DTD/entity rule before libxml2 sees it
  const { main, preload } = load(schemaDir);
  const bytes = Buffer.byteLength(xml);
  const r = await validateXML({
    xml: { fileName: 'body.xml', contents: xml },
    schema: main,
    preload,
    initialMemoryPages: memoryPages.MiB * 32,
    maxMemoryPages: Math.min(memoryPages.GiB * 2, memoryPages.MiB * (64 + Math.ceil((bytes * 8) / 1048576))),
  });
  return { valid: r.valid, errors: r.errors.map((e) => e.message.trim()).filter((m) => !/parser warning/i.test(m)).slice(0, 20) };
}
