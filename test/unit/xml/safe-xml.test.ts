import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { buildCda, writeXdm } from '../../../src/main/documents';
import { buildExtrinsicObject, buildRegistryPackage, buildAssociation } from '../../../src/main/dmp/ebrim';
import { syntheticDmpEntry } from '../../support/dmp-entries';
import { ACTIONS, responseAction } from '../../../src/main/dmp/protocol';
import { buildFault, buildRequestEnvelope, buildResponseEnvelope } from '../../../src/main/dmp/soap';
import { buildTd02Response } from '../../../src/main/dmp/td0';
import { buildVihf } from '../../../src/main/dmp/vihf';
import { buildAdhocQuery, buildAdhocQueryResponse, buildRegistryResponse } from '../../../src/main/dmp/xds-messages';
import { compareDom } from '../../../src/main/xml/dom-compare';
import { LightNode } from '../../../src/main/xml/light-dom';
import { parseWithXmldom, parseXml, parseXmlForReading, serializeXml, usesFastParser } from '../../../src/main/xml/safe-xml';
import { selfCheckDifference } from '../../../src/main/xml/self-check';
import { installXmldomRegexCache } from '../../../src/main/xml/xmldom-regex-cache';
import { HAS_SHARED, SHARED_MISSING, sharedPath } from '../../support/shared';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** Serialisations of the same inputs by a pristine xmldom in another process (no regex cache installed). */
function pristine(inputs: string[]): (string | null)[] {
  const script = `
    const { DOMParser, XMLSerializer } = require('@xmldom/xmldom');
    const inputs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
    const out = inputs.map((t) => {
      const errors = [];
      try {
        const doc = new DOMParser({ onError: (l, m) => { if (l !== 'warning') errors.push(m); } }).parseFromString(t, 'text/xml');
        return errors.length || !doc.documentElement ? null : new XMLSerializer().serializeToString(doc);
      } catch { return null; }
    });
    process.stdout.write(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, input: JSON.stringify(inputs), maxBuffer: 256 * 1024 * 1024 }).toString()) as (string | null)[];
}

function ours(inputs: string[]): (string | null)[] {
  return inputs.map((t) => {
    try {
      return serializeXml(parseXml(t));
    } catch {
      return null;
    }
  });
}

/** The tree xmldom's own DOMParser builds (errors refused), the reference for the structural comparisons. */
function reference(text: string): Document {
  return parseWithXmldom(text);
}

/** Structural difference between xmldom's tree and ours (null = the same, own properties included). */
function structuralDiff(text: string): string | null {
  return compareDom(reference(text), parseXml(text), { ownKeys: true });
}

function fixtureTexts(): { file: string; text: string }[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.xml$/i.test(e.name)) files.push(p);
    }
  };
  walk(sharedPath('fixtures'));
  return files.map((file) => ({ file, text: fs.readFileSync(file, 'utf8') })).filter((f) => !/<!DOCTYPE|<!ENTITY/i.test(f.text));
}


/** Our own documents: a built CDA, its XDM METADATA, DMP SOAP/ebRIM messages of the test server. */
async function ownDocuments(): Promise<Record<string, string>> {
  const examples = path.join(ROOT, 'examples');
  const built = buildCda(JSON.parse(fs.readFileSync(path.join(examples, 'cda-request.json'), 'utf8')), { baseDir: examples });
  const cdaText = Buffer.from(built.bytes).toString('utf8');
  const xdm = await writeXdm([built.parsed], { sourceId: '1.2.250.1.999.1' });
  const objects = Array.from({ length: 30 }, (_, i) => buildExtrinsicObject(syntheticDmpEntry(i, { uniqueId: `1.2.250.1.999.${i}`, title: `Compte rendu n° ${i} <urgent> & "à revoir"` }))).join('');
  const vihf = buildVihf({
    mode: 'INDIRECTE_RENFORCEE', issuerDn: 'CN=SIGN,OU=10B,O=Cab,C=FR', nameId: '810001234567', subjectName: 'Dr Test', sector: 'SA07', structureId: '10B',
    roles: [{ code: '10', codeSystem: '1.2.250.1.71.1.2.7' }], patient: { ins: '279035121518989', insOid: '1.2.250.1.213.1.4.10' },
    lps: { id: 'L', name: 'N', version: 'V', homologation: 'H' }, invisibleToLegalReps: true,
  }).xml;
  const docs: Record<string, string> = {
    cda: cdaText,
    metadata: xdm.metadataXml,
    'TD3.1 response': buildResponseEnvelope(responseAction(ACTIONS.td31), 'urn:uuid:x', buildAdhocQueryResponse(objects)),
    'TD3.1 request with VIHF': buildRequestEnvelope({ action: ACTIONS.td31, to: 'https://x/registry', assertionXml: vihf, bodyXml: buildAdhocQuery({ kind: 'FindDocumentsByReferenceId', params: { patientId: 'P', statuses: ['approved'], eventCodes: ['CT^^1'], referenceIds: ['AN^^^^urn:ihe:iti:xds:2013:accession'] }, returnType: 'LeafClass' }) }).xml,
    'registry error': buildResponseEnvelope(responseAction(ACTIONS.td21), 'urn:uuid:y', buildRegistryResponse([{ code: 'XDSRegistryError', context: 'ctx <&>', severity: 'urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error' } as never])),
    fault: buildFault('DMP_INEXISTANT' as never, 'détail <x> & "y"', 'urn:uuid:z'),
    'TD0.2 response': buildTd02Response(undefined, { ins: '1', insOid: '2', dmp: 'FERME', authorization: 'VALIDE', treatingPhysician: true, closureDate: '20240101', closureReason: 'Décès' }),
    submission: buildRegistryPackage as unknown as string,
  };
  docs.submission = `<rim:RegistryObjectList xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0">${objects}${buildAssociation({ id: 'urn:uuid:a', type: 'urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember', source: 'urn:uuid:s', target: 'urn:uuid:t', slots: { SubmissionSetStatus: ['Original'] } })}</rim:RegistryObjectList>`;
  return docs;
}

/** Well-formed inputs that exercise the corners xmldom and our parser must agree on. */
const TRICKY_WELL_FORMED: Record<string, string> = {
  'namespaces redeclared': '<a:r xmlns:a="urn:1"><a:b xmlns:a="urn:2" a:x="1"><a:c/></a:b><a:d a:y="2"/></a:r>',
  'default namespace and reset': '<r xmlns="urn:d"><b xmlns=""><c/><d xmlns="urn:e"><e/></d></b><f/></r>',
  'prefixes from ancestors, same local names in two namespaces': '<r xmlns:p="urn:p" xmlns:q="urn:q"><x p:a="1" q:a="2" a="3"/></r>',
  'xml prefix, declared or not': '<r xml:lang="fr"><s xmlns:xml="http://www.w3.org/XML/1998/namespace" xml:space="preserve"> </s></r>',
  'predefined entities and character references': '<r a="&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;">&lt;t&gt; &amp; &quot;&apos; &#233;&#xE9;&#x10FFFF;</r>',
  'CDATA with ]] inside, empty CDATA merging text': '<r><![CDATA[a]]b]]]><![CDATA[<&>]]>x<![CDATA[]]>y</r>',
  'comments and processing instructions everywhere': '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!-- c1 -->\n<?pi-a data ?>\n<r><!----><?p?><?q   x  y ?><!-- - --></r>\n<!-- c2 -->\n<?z?>\n',
  'BOM-free CRLF and lone CR': '<r a="x\r\ny\rz">\r\n  <b>t\r\n\r\nu\rv</b>\r\n</r>\r\n',
  'tabs and newlines in attributes, references to them': '<r a="\tx\ny\t" b="&#9;&#10;&#13;" c=\'single "quoted"\'/>',
  'surrogate pairs, non-ASCII names': '<é:ü xmlns:é="urn:é" é:ñ="😀">𝄞 a😀b</é:ü>',
  'self-closing, spaces in tags': '<r  a = "1"\n b=\'2\' ><e/><e   /><f></f ></r >',
  'whitespace around the root': '\n\n  <r>\n</r>\n\n',
  'U+2028 and NEL line ends': '<r a="x\u2028y">p\u0085q\r\u0085r\u2029s</r>',
  'many attributes': `<r ${Array.from({ length: 40 }, (_, i) => `a${i}="${i}"`).join(' ')}/>`,
};

/** Not well-formed: refused by both parsers. */
const MALFORMED_BOTH: Record<string, string> = {
  'mismatched tags': '<a><b></c></a>',
  unclosed: '<a><b>',
  'duplicate attribute': '<a b="1" b="2"/>',
  'unbound element prefix': '<p:a/>',
  'unbound attribute prefix': '<a p:b="1"/>',
  'unknown entity': '<a>&nbsp;</a>',
  'reference without ;': '<a>&amp</a>',
  'text after the root': '<a/>text',
  'text before the root': 'text<a/>',
  'second root': '<a/><b/>',
  "'<' in an attribute value": '<a b="<"/>',
  'CDATA outside the root': '<![CDATA[x]]><a/>',
  'comment with --': '<a><!-- a -- b --></a>',
  'XML declaration not first': ' <?xml version="1.0"?><a/>',
  'bad XML declaration': '<?xml versio="1.0"?><a/>',
  'empty document': '',
  'invalid element name': '<1a/>',
  'end tag without start': '</a>',
  'uppercase X in a hex reference': '<a>&#X41;</a>',
  'unterminated attribute value': '<a b="1/>',
  'unterminated comment': '<a><!-- x</a>',
};

/** Not well-formed, accepted by xmldom (with at most a warning), refused by ours: strictness wins. */
const MALFORMED_STRICTER: Record<string, string> = {
  'control character in text': '<a>\u0001</a>',
  'control character in an attribute': '<a b="\u000B"/>',
  'reference to U+0000': '<a>&#0;</a>',
  'reference to a surrogate': '<a>&#xD800;</a>',
  'lone surrogate': '<a>\uD800</a>',
  'bare &': '<a>a & b</a>',
  "']]>' in text": '<a>]]></a>',
  'unquoted attribute value': '<a b=c/>',
  'attribute without value': '<a b/>',
  'no space between attributes': '<a b="1"c="2"/>',
  "'/ >' to close": '<a/ >',
  'same namespace and local name twice': '<a xmlns:p="urn:u" xmlns:q="urn:u" p:x="1" q:x="2"/>',
  'prefix undeclared with xmlns:p=""': '<a xmlns:p=""/>',
  'xmlns prefix declared': '<a xmlns:xmlns="urn:x"/>',
  'xml prefix rebound': '<a xmlns:xml="urn:x"/>',
  'a prefix bound to the XML namespace': '<a xmlns:p="http://www.w3.org/XML/1998/namespace"/>',
};

describe('safe XML parsing', () => {
  it('refuses DTDs and entity declarations', () => {
    expect(() => parseXml('<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')).toThrow(/DOCTYPE\/ENTITY/);
    expect(() => parseXml('<?xml version="1.0"?>\n<!doctype a SYSTEM "file:///etc/passwd"><a/>')).toThrow(/DOCTYPE/);
  });

  it('installs the regex cache on the xmldom in use', () => {
    expect(installXmldomRegexCache()).toBe(true);
  });

  it('parses exactly like a pristine xmldom, well-formed and malformed inputs alike', () => {
    const inputs = [
      '<a xmlns="urn:x" xmlns:p="urn:p"><p:b c="1">t&amp;u</p:b><d/><!-- c --><?pi x?><![CDATA[<z>]]></a>',
      '<a><b></b ></a>',
      '<a><b></c></a>',
      '<a><b>',
      '<a></a\n x>',
      '<a>&unknown;</a>',
      '<a b="1" b="2"/>',
      '<é:ü xmlns:é="urn:e">ñ</é:ü>',
      'text<a/>',
      '<a/><b/>',
    ];
    expect(ours(inputs)).toEqual(pristine(inputs));
    // The malformed ones are still refused.
    expect(ours(inputs).filter((x) => x === null).length).toBeGreaterThanOrEqual(4);
  });

  it.skipIf(!HAS_SHARED)('parses every ANS CDA example and NIST XDM metadata exactly like a pristine xmldom', () => {
    const fixtures = fixtureTexts();
    expect(fixtures.length).toBeGreaterThan(5);
    const texts = fixtures.map((f) => f.text);
    const digest = (xs: (string | null)[]) => xs.map((x) => (x === null ? null : createHash('sha256').update(x).digest('hex')));
    expect(digest(ours(texts))).toEqual(digest(pristine(texts)));
  });
  if (!HAS_SHARED) it.skip(SHARED_MISSING, () => {});
});

describe('fast parser: the same tree as xmldom', () => {
  it('is in use (the load-time self-check against the installed xmldom passed)', () => {
    expect(selfCheckDifference()).toBeNull();
    expect(usesFastParser()).toBe(true);
  });

  it('the structural comparison notices differences (so the checks below can fail)', () => {
    const text = '<r xmlns:p="urn:p"><a p:x="1">t</a><b/></r>';
    const ours = parseXml(text);
    expect(compareDom(reference(text), ours, { ownKeys: true })).toBeNull();
    const a = ours.documentElement!.firstChild as Element;
    const mutations: [string, () => void, () => void][] = [
      ['attribute value', () => (a.attributes[0]!.value = '2'), () => (a.attributes[0]!.value = '1')],
      ['namespace', () => ((a.attributes[0] as unknown as { namespaceURI: string }).namespaceURI = 'urn:q'), () => ((a.attributes[0] as unknown as { namespaceURI: string }).namespaceURI = 'urn:p')],
      ['text', () => ((a.firstChild as unknown as { data: string }).data = 'u'), () => ((a.firstChild as unknown as { data: string }).data = 't')],
      ['sibling link', () => ((a as unknown as { nextSibling: null }).nextSibling = null), () => ((a as unknown as { nextSibling: unknown }).nextSibling = a.parentNode!.lastChild)],
      ['parent link', () => ((a as unknown as { parentNode: unknown }).parentNode = ours), () => ((a as unknown as { parentNode: unknown }).parentNode = ours.documentElement)],
      ['own key', () => ((a as unknown as { extra: number }).extra = 1), () => delete (a as unknown as { extra?: number }).extra],
    ];
    for (const [what, mutate, undo] of mutations) {
      mutate();
      expect(compareDom(reference(text), ours, { ownKeys: true }), what).not.toBeNull();
      undo();
      expect(compareDom(reference(text), ours, { ownKeys: true }), what).toBeNull();
    }
  });

  it.skipIf(!HAS_SHARED)('on every ANS CDA example and NIST XDM metadata', () => {
    const texts = fixtureTexts();
    expect(texts.length).toBeGreaterThan(5);
    for (const { file, text } of texts) expect(structuralDiff(text), path.basename(file)).toBeNull();
  });

  it('on our own documents: a built CDA, XDM METADATA, DMP SOAP/ebRIM messages of the test server', async () => {
    const docs = await ownDocuments();
    for (const [what, text] of Object.entries(docs)) {
      expect(text.length, what).toBeGreaterThan(100);
      expect(structuralDiff(text), what).toBeNull();
      expect(serializeXml(parseXml(text)), what).toBe(new XMLSerializer().serializeToString(reference(text)));
    }
  });

  it('on tricky well-formed inputs', () => {
    for (const [what, text] of Object.entries(TRICKY_WELL_FORMED)) {
      expect(structuralDiff(text), what).toBeNull();
      expect(serializeXml(parseXml(text)), what).toBe(new XMLSerializer().serializeToString(reference(text)));
    }
  });

  it('refuses what xmldom refuses, and more (strictness wins)', () => {
    for (const [what, text] of Object.entries(MALFORMED_BOTH)) {
      expect(() => reference(text), what).toThrow();
      expect(() => parseXml(text), what).toThrow(expect.objectContaining({ code: 'XML_INVALID' }));
    }
    for (const [what, text] of Object.entries(MALFORMED_STRICTER)) {
      expect(() => reference(text), `xmldom accepts: ${what}`).not.toThrow();
      expect(() => parseXml(text), what).toThrow(expect.objectContaining({ code: 'XML_INVALID' }));
    }
  });

  it('reports where the error is', () => {
    expect(() => parseXml('<a>\n  <b></c>\n</a>', 'CDA')).toThrow(expect.objectContaining({ detail: expect.stringMatching(/^CDA: end tag <\/c> does not match <b> \(line 2, column 6\)/) }));
  });

  it('a leading BOM is an encoding signature (xmldom refuses it in a string; bytes were always fine)', () => {
    const text = '\uFEFF<?xml version="1.0"?><a>é</a>';
    expect(() => reference(text)).toThrow();
    expect(compareDom(reference(text.slice(1)), parseXml(text), { ownKeys: true })).toBeNull();
    expect(compareDom(parseXml(Buffer.from(text, 'utf8')), parseXml(text.slice(1)), { ownKeys: true })).toBeNull();
  });

  it('10 000 levels of nesting and a 1 MB text node', () => {
    const deep = '<d>'.repeat(10_000) + 'x' + '</d>'.repeat(10_000);
    const doc = parseXml(deep);
    let depth = 0;
    for (let n: Element | null = doc.documentElement; n; n = n.firstChild as Element | null) if (n.nodeType === 1) depth++;
    expect(depth).toBe(10_000);
    expect(compareDom(reference(deep), doc, { ownKeys: true })).toBeNull();
    const big = 'abcdefgh&amp;\r\n'.repeat(100_000);
    const text = `<r>${big}</r>`;
    const t = parseXml(text).documentElement!.firstChild as unknown as { data: string };
    expect(t.data.length).toBe(1_000_000);
    expect(t.data).toBe(big.replace(/&amp;/g, '&').replace(/\r\n/g, '\n'));
    expect(structuralDiff(text)).toBeNull();
  });

  it('the tree behaves like xmldom\'s under the DOM API (lazily created tables included)', () => {
    const text = '<r xmlns="urn:d" xmlns:p="urn:p"><p:a p:x="1" y="2">t</p:a><b/></r>';
    for (const doc of [reference(text), parseXml(text)]) {
      const a = doc.getElementsByTagNameNS('urn:p', 'a')[0]!;
      const b = doc.getElementsByTagNameNS('urn:d', 'b')[0]!;
      expect(a.lookupNamespaceURI('p')).toBe('urn:p');
      expect(b.lookupNamespaceURI('')).toBe('urn:d');
      expect(a.lookupPrefix('urn:p')).toBe('p');
      expect(a.getAttributeNS('urn:p', 'x')).toBe('1');
      a.setAttributeNS('urn:p', 'p:x', '3');
      expect(a.attributes.length).toBe(2);
      expect(a.getAttributeNS('urn:p', 'x')).toBe('3');
      a.setAttributeNS('http://www.w3.org/2000/xmlns/', 'xmlns:q', 'urn:q');
      expect(a.lookupNamespaceURI('q')).toBe('urn:q');
      a.removeAttribute('y');
      expect(a.hasAttribute('y')).toBe(false);
      expect(b.childNodes.length).toBe(0);
      b.appendChild(doc.createElementNS('urn:d', 'c'));
      b.appendChild(doc.createTextNode('u'));
      expect(b.childNodes.length).toBe(2);
      expect(b.textContent).toBe('u');
      expect(a.firstChild!.childNodes.length).toBe(0);
      const clone = doc.documentElement!.cloneNode(true) as Element;
      expect(new XMLSerializer().serializeToString(clone)).toBe(new XMLSerializer().serializeToString(doc.documentElement!));
      const imported = new DOMParser().parseFromString('<x/>', 'text/xml').importNode(doc.documentElement!, true);
      expect(imported.childNodes.length).toBe(2);
    }
    const [x, y] = [reference(text), parseXml(text)];
    for (const d of [x, y]) {
      const a = d.getElementsByTagNameNS('urn:p', 'a')[0]!;
      a.setAttributeNS('urn:p', 'p:x', '3');
      a.setAttributeNS('http://www.w3.org/2000/xmlns/', 'xmlns:q', 'urn:q');
      d.getElementsByTagNameNS('urn:d', 'b')[0]!.appendChild(d.createTextNode('u'));
    }
    expect(compareDom(x, y)).toBeNull();
  });
});

type Dom = Record<string, unknown> & {
  nodeType: number;
  firstChild: Dom | null;
  nextSibling: Dom | null;
  previousSibling: Dom | null;
  lastChild: Dom | null;
  parentNode: Dom | null;
  childNodes: ArrayLike<Dom>;
  attributes: ArrayLike<Dom> | null;
  textContent: string | null;
  getAttribute(n: string): string | null;
  getAttributeNS(ns: string | null, l: string): string | null;
  hasAttribute(n: string): boolean;
  getElementsByTagNameNS(ns: string, l: string): ArrayLike<Dom>;
};
const SUBSET_FIELDS = ['nodeType', 'nodeName', 'tagName', 'localName', 'prefix', 'namespaceURI', 'nodeValue', 'data', 'target', 'name', 'value'];

/**
 * The light tree against xmldom's, through what the readers use of the DOM: node by node in document order, the
 * fields, the attributes and their lookups, `textContent` (elements up to `textDepth` levels deep: it is quadratic
 * on deep documents), the links and `childNodes`, and `getElementsByTagNameNS`. Returns the first difference.
 */
function subsetDiff(text: string, textDepth = 64): string | null {
  return subsetDiffOf(reference(text) as unknown as Dom, parseXmlForReading(text) as unknown as Dom, textDepth);
}

function subsetDiffOf(ref: Dom, light: Dom, textDepth = 64): string | null {
  if (!(light instanceof LightNode)) return 'not the light tree';
  const docEl = (d: Dom) => d.documentElement as Dom;
  if (docEl(ref).nodeName !== docEl(light).nodeName) return 'documentElement differs';
  const all = (d: Dom, ns: string, l: string) => Array.from(d.getElementsByTagNameNS(ns, l)).map((n) => n.nodeName).join(',');
  if (all(docEl(ref), '*', '*') !== all(docEl(light), '*', '*')) return 'getElementsByTagNameNS(*, *) differs';
  let a: Dom | null = ref;
  let b: Dom | null = light;
  let depth = 0;
  for (let i = 0; a && b; i++) {
    const where = `node ${i} (${String(a.nodeName)})`;
    for (const f of SUBSET_FIELDS) if (a[f] !== b[f]) return `${where}: ${f} ${JSON.stringify(a[f])} != ${JSON.stringify(b[f])}`;
    if (a.childNodes.length !== b.childNodes.length) return `${where}: ${a.childNodes.length} != ${b.childNodes.length} children`;
    for (let k = 0, c = b.firstChild, prev: Dom | null = null; k < b.childNodes.length; k++, prev = c, c = c!.nextSibling) {
      if (b.childNodes[k] !== c || c!.parentNode !== b || c!.previousSibling !== prev) return `${where}: child ${k} is not linked`;
      if (k === b.childNodes.length - 1 && b.lastChild !== c) return `${where}: lastChild is wrong`;
    }
    if (a.nodeType === 1) {
      if (depth <= textDepth && a.textContent !== b.textContent) return `${where}: textContent differs`;
      const aa = a.attributes!;
      const ba = b.attributes!;
      if (aa.length !== ba.length) return `${where}: ${aa.length} != ${ba.length} attributes`;
      for (let k = 0; k < aa.length; k++) {
        for (const f of SUBSET_FIELDS) if (aa[k]![f] !== ba[k]![f]) return `${where}: attribute ${k} ${f} ${JSON.stringify(aa[k]![f])} != ${JSON.stringify(ba[k]![f])}`;
        if ((ba[k]!.ownerElement as Dom) !== b) return `${where}: attribute ${k} has another ownerElement`;
        const q = String(aa[k]!.nodeName);
        if (a.getAttribute(q) !== b.getAttribute(q) || b.hasAttribute(q) !== true) return `${where}: getAttribute(${q}) differs`;
        const ns = aa[k]!.namespaceURI as string | null;
        const l = String(aa[k]!.localName);
        if (a.getAttributeNS(ns, l) !== b.getAttributeNS(ns, l)) return `${where}: getAttributeNS(${ns}, ${l}) differs`;
      }
      for (const q of ['absent', 'xmlns:absent']) if (a.getAttribute(q) !== b.getAttribute(q) || b.hasAttribute(q)) return `${where}: getAttribute(${q}) differs`;
    }
    // next in document order, in both trees alike
    const step = (n: Dom): [Dom | null, number] => {
      if (n.firstChild) return [n.firstChild, 1];
      let up = 0;
      for (let x: Dom | null = n; x; x = x.parentNode, up--) if (x.nextSibling) return [x.nextSibling, up];
      return [null, 0];
    };
    const [na, da] = step(a);
    const [nb, db] = step(b);
    if (da !== db) return `${where}: the trees branch differently`;
    depth += da;
    a = na;
    b = nb;
  }
  return a || b ? 'one tree has more nodes' : null;
}

describe('light tree for reading (CDA, ebRIM): the same document through the DOM the readers use', () => {
  it('the comparison notices differences (so the checks below can fail)', () => {
    const text = '<r xmlns:p="urn:p"><a p:x="1">t<!--c--></a><b/></r>';
    expect(subsetDiff(text)).toBeNull();
    const light = parseXmlForReading(text) as unknown as LightNode;
    const a = light.documentElement!.firstChild!;
    const mutations: [string, () => void, () => void][] = [
      ['attribute value', () => (a.attributes![0]!._data = '2'), () => (a.attributes![0]!._data = '1')],
      ['text', () => (a.firstChild!._data = 'u'), () => (a.firstChild!._data = 't')],
      ['namespace', () => (a.namespaceURI = 'urn:q'), () => (a.namespaceURI = null)],
    ];
    for (const [what, mutate, undo] of mutations) {
      mutate();
      expect(compareLight(text, light), what).not.toBeNull();
      undo();
      expect(compareLight(text, light), what).toBeNull();
    }
  });

  it.skipIf(!HAS_SHARED)('on every ANS CDA example and NIST XDM metadata', () => {
    const texts = fixtureTexts();
    expect(texts.length).toBeGreaterThan(5);
    for (const { file, text } of texts) expect(subsetDiff(text), path.basename(file)).toBeNull();
  });

  it('on our own documents and on tricky well-formed inputs', async () => {
    for (const [what, text] of Object.entries({ ...(await ownDocuments()), ...TRICKY_WELL_FORMED })) expect(subsetDiff(text), what).toBeNull();
    const deep = '<d>'.repeat(10_000) + 'x' + '</d>'.repeat(10_000);
    expect(subsetDiff(deep, 20)).toBeNull();
  });

  it('refuses exactly what parseXml refuses, with the same message', () => {
    for (const text of [...Object.values(MALFORMED_BOTH), ...Object.values(MALFORMED_STRICTER), '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>']) {
      let expected: unknown;
      try {
        parseXml(text, 'CDA');
      } catch (err) {
        expected = err;
      }
      expect(expected, text).toMatchObject({ code: 'XML_INVALID' });
      expect(() => parseXmlForReading(text, 'CDA'), text).toThrow(expect.objectContaining({ code: 'XML_INVALID', detail: (expected as { detail: string }).detail }));
    }
  });
});

/** `subsetDiff` against a light tree already built (to check the comparison itself). */
function compareLight(text: string, light: LightNode): string | null {
  return subsetDiffOf(reference(text) as unknown as Dom, light as unknown as Dom);
}
