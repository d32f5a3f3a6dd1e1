/**
 * Structural comparison of two xmldom trees (used by the load-time self-check of the fast parser and by the
 * tests). Node by node, iteratively (no recursion: 10 000-level documents are fine), it compares what DOM
 * consumers read — nodeType, nodeName, tagName, namespaceURI, prefix, localName, nodeValue/data/target, the
 * attributes (xmlns ones included) in order, the element's namespace map (`lookupNamespaceURI`), the prototypes —
 * and checks in each tree that parent/child/sibling links, `childNodes`, `ownerDocument`, `ownerElement`, the
 * attribute lookup index and `documentElement` agree with each other. With `ownKeys`, the sets of own properties
 * must be equal too (xmldom's position fields `lineNumber`/`columnNumber` aside). Returns the first difference
 * (with the path of the node), or null.
 */

import * as xmldom from '@xmldom/xmldom';

type N = Record<string, unknown> & { nodeType: number };
type List = Record<number, N> & { length: number };
type AttrMap = List & { _noNsIndex?: Record<string, N>; _nsIndex?: Record<string, Record<string, N>>; _ownerElement?: N };

const IGNORED_KEYS = new Set(['lineNumber', 'columnNumber', '_inc', '$$length']);
const FIELDS = ['nodeType', 'nodeName', 'tagName', 'namespaceURI', 'prefix', 'localName', 'nodeValue', 'data', 'target', 'length', 'name', 'value', 'specified'];

const XMLDOM_PROTOS = new Set<unknown>(
  [xmldom.Element, xmldom.Attr, xmldom.Text, xmldom.CDATASection, xmldom.Comment, xmldom.ProcessingInstruction, xmldom.Document, xmldom.NodeList, xmldom.NamedNodeMap, xmldom.DocumentType].map(
    (c) => (c as unknown as { prototype: object }).prototype,
  ),
);

/** The xmldom class prototype an object inherits from (the fast parser inserts thin prototypes below them). */
function xmldomProto(o: object): unknown {
  for (let p = Object.getPrototypeOf(o) as object | null; p; p = Object.getPrototypeOf(p) as object | null) if (XMLDOM_PROTOS.has(p)) return p;
  return undefined;
}

/** Own keys, but for position fields and links that are null as their inherited default (no child). */
function keysOf(o: object): string {
  return Object.keys(o)
    .filter((k) => !IGNORED_KEYS.has(k) && !((k === 'firstChild' || k === 'lastChild') && (o as Record<string, unknown>)[k] === null))
    .sort()
    .join(',');
}

/** Reads the fields xmldom creates eagerly and the fast parser on first access, so own keys can be compared. */
function materialize(n: N): void {
  void n.childNodes;
  if (n.nodeType === 1) {
    void n._nsMap;
    const map = n.attributes as AttrMap;
    void map._nsIndex;
    void map._noNsIndex;
    for (let i = 0; i < map.length; i++) void map[i]!.childNodes;
  }
}

function fields(a: N, b: N, ownKeys: boolean): string | null {
  materialize(a);
  materialize(b);
  for (const f of FIELDS) if (a[f] !== b[f]) return `${f} ${JSON.stringify(a[f])} != ${JSON.stringify(b[f])}`;
  const pa = xmldomProto(a);
  if (!pa || pa !== xmldomProto(b)) return 'not the same xmldom class';
  if (a.constructor !== b.constructor) return 'constructors differ';
  if (ownKeys) {
    if (keysOf(a) !== keysOf(b)) return `own keys [${keysOf(a)}] != [${keysOf(b)}]`;
    if (keysOf(a.childNodes as object) !== keysOf(b.childNodes as object)) return 'childNodes own keys differ';
  }
  if (a.childNodes && xmldomProto(a.childNodes as object) !== (xmldom.NodeList as unknown as { prototype: object }).prototype) return 'childNodes is not a NodeList';
  if (b.childNodes && xmldomProto(b.childNodes as object) !== (xmldom.NodeList as unknown as { prototype: object }).prototype) return 'childNodes is not a NodeList';
  return null;
}

/** The links of `n` with its children, within its own tree. */
function links(n: N, doc: N): string | null {
  if (n.ownerDocument !== doc) return 'ownerDocument is not the document';
  const list = n.childNodes as List | null;
  let prev: N | null = null;
  let i = 0;
  for (let c = (n.firstChild as N | null) ?? null; c; c = (c.nextSibling as N | null) ?? null, i++) {
    if (c.parentNode !== n) return `child ${i} has another parentNode`;
    if ((c.previousSibling ?? null) !== prev) return `child ${i}: previousSibling is wrong`;
    if (!list || list[i] !== c) return `childNodes[${i}] is not the linked child`;
    prev = c;
  }
  if ((n.lastChild ?? null) !== prev) return 'lastChild is wrong';
  if ((list?.length ?? 0) !== i) return `childNodes.length ${list?.length} but ${i} linked children`;
  if (list && list[i] !== undefined) return `childNodes has a stale entry at ${i}`;
  return null;
}

function attributes(n: N): string | null {
  const map = n.attributes as AttrMap | null;
  if (!map) return 'no attributes map';
  if (xmldomProto(map) !== (xmldom.NamedNodeMap as unknown as { prototype: object }).prototype) return 'attributes is not a NamedNodeMap';
  if (map._ownerElement !== n) return 'attributes._ownerElement is wrong';
  for (let i = 0; i < map.length; i++) {
    const a = map[i]!;
    if (a.ownerElement !== n) return `attribute ${String(a.nodeName)} has another ownerElement`;
    if (a.ownerDocument !== n.ownerDocument) return `attribute ${String(a.nodeName)} has another ownerDocument`;
    const ns = a.namespaceURI as string | null;
    const indexed = ns ? map._nsIndex?.[ns]?.[a.localName as string] : map._noNsIndex?.[a.localName as string];
    if (indexed !== a) return `attribute ${String(a.nodeName)} missing from the attributes index`;
  }
  for (const table of [n._nsMap, map._nsIndex, map._noNsIndex, ...Object.values(map._nsIndex ?? {})]) {
    if (Object.prototype.isPrototypeOf(table as object)) return 'a lookup table inherits from Object.prototype';
  }
  return null;
}

function element(a: N, b: N, ownKeys: boolean): string | null {
  const bad = attributes(a) ?? attributes(b);
  if (bad) return bad;
  const ma = a.attributes as AttrMap;
  const mb = b.attributes as AttrMap;
  if (ma.length !== mb.length) return `${ma.length} != ${mb.length} attributes`;
  for (let i = 0; i < ma.length; i++) {
    const d = fields(ma[i]!, mb[i]!, ownKeys);
    if (d) return `attribute ${String(ma[i]!.nodeName)}: ${d}`;
  }
  if (ownKeys && keysOf(ma) !== keysOf(mb)) return `attributes own keys [${keysOf(ma)}] != [${keysOf(mb)}]`;
  const nsA = JSON.stringify(Object.entries(a._nsMap as object).sort());
  const nsB = JSON.stringify(Object.entries(b._nsMap as object).sort());
  if (nsA !== nsB) return `_nsMap ${nsA} != ${nsB}`;
  return null;
}

function pathOf(n: N): string {
  const parts: string[] = [];
  for (let x: N | null = n; x && x.nodeType !== 9; x = (x.parentNode as N | null) ?? null) {
    let i = 0;
    for (let p = x.previousSibling as N | null; p; p = p.previousSibling as N | null) i++;
    parts.push(`${i}:${String(x.nodeName)}`);
    if (parts.length > 20) {
      parts.push('…');
      break;
    }
  }
  return '/' + parts.reverse().join('/');
}

export function compareDom(docA: unknown, docB: unknown, opts: { ownKeys?: boolean } = {}): string | null {
  const ownKeys = !!opts.ownKeys;
  const da = docA as N;
  const db = docB as N;
  for (const d of [da, db]) {
    let el: N | null = null;
    for (let c = d.firstChild as N | null; c && !el; c = c.nextSibling as N | null) if (c.nodeType === 1) el = c;
    if (!el || d.documentElement !== el) return 'documentElement is not the element child of the document';
  }
  const stack: N[] = [da, db];
  while (stack.length) {
    const b = stack.pop()!;
    const a = stack.pop()!;
    const d = fields(a, b, ownKeys) ?? links(a, da) ?? links(b, db) ?? (a.nodeType === 1 ? element(a, b, ownKeys) : null);
    if (d) return `${pathOf(a)}: ${d}`;
    const ca = a.childNodes as List;
    const cb = b.childNodes as List;
    if (ca.length !== cb.length) return `${pathOf(a)}: ${ca.length} != ${cb.length} children`;
    for (let i = ca.length - 1; i >= 0; i--) stack.push(ca[i]!, cb[i]!);
  }
  return null;
}
