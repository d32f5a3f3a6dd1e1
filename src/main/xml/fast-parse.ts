import { createRequire } from 'node:module';
import * as xmldom from '@xmldom/xmldom';
import type { Document } from '@xmldom/xmldom';
import { LightNode } from './light-dom';

/**
 * A strict, single-pass XML 1.0 + Namespaces parser that builds REAL @xmldom/xmldom 0.9 nodes (same prototypes,
 * same own fields as xmldom's own DOMParser sets), so every consumer of the DOM — our walkers, XMLSerializer,
 * xml-crypto, `instanceof` — sees what it saw with `DOMParser.parseFromString(text, 'text/xml')`.
 *
 * Why: xmldom's SAX tokenizer works character by character with regular expressions, and its DOM builder inserts
 * every node through the validated `insertBefore` path (pre-insertion checks, live-list bookkeeping, qualified-name
 * regexes). Here the tokenizer is `indexOf`/`charCodeAt` based and children are linked directly
 * (parentNode/firstChild/lastChild/previousSibling/nextSibling, `childNodes`, `attributes` with its lookup index,
 * the element's `_nsMap`), which is what `insertBefore`/`setAttributeNode` would have produced.
 *
 * Reproduced xmldom behaviours (consumers depend on them):
 * - line ends normalised with xmldom's own `normalizeLineEndings` (`\r\n`, `\r`, U+0085, U+2028, U+2029 → `\n`);
 * - attribute values: `\t` `\n` `\r` → space, then references expanded (so `&#10;` stays a line feed);
 * - whitespace between top-level constructs is kept as Text children of the Document, except after the last one;
 * - an empty CDATA section produces no node, and adjacent text is merged (xmldom's final `normalize()`);
 * - a processing instruction without data has `data` undefined (`nodeValue` reads as '');
 * - element/attribute namespaces: default namespace (reset by `xmlns=""`), prefixes declared on ancestors,
 *   `xml:` bound to the XML namespace, `xmlns` attributes in the XMLNS namespace.
 * Not reproduced: the `lineNumber`/`columnNumber` fields (no consumer reads them; error messages carry a position).
 *
 * The same builder also makes the light read-only tree of `light-dom.ts` (`parseXmlLightFast`): only the node kit
 * differs (`NodeKit`), the grammar, the checks and the error messages are shared.
 *
 * Stricter than xmldom (refused here, accepted by xmldom with at most a warning): control characters and lone
 * surrogates anywhere, character references to non-characters (`&#0;`), a bare `&`, `]]>` in text, unquoted or
 * missing attribute values, no space between attributes, `<a/ >`, two attributes with the same namespace and local
 * name under different prefixes, `xmlns:p=""`, binding `xmlns`/`xml` prefixes or namespaces wrongly.
 */

export class XmlSyntaxError extends Error {}

type Mut = Record<string, unknown>;
type NodeObj = Mut & { nodeType: number };

const NS_XML = 'http://www.w3.org/XML/1998/namespace';
const NS_XMLNS = 'http://www.w3.org/2000/xmlns/';

interface Grammar {
  QName_exact: RegExp;
  Name_exact: RegExp;
  XMLDecl: RegExp;
}
const grammar = createRequire(__filename)('@xmldom/xmldom/lib/grammar') as Grammar;

const NodeListProto = (xmldom.NodeList as unknown as { prototype: object }).prototype;
const NamedNodeMapProto = (xmldom.NamedNodeMap as unknown as { prototype: object }).prototype;

/**
 * xmldom keeps lookup tables in `Object.create(null)` objects. V8 makes those dictionary-mode objects, ten times
 * costlier to allocate than plain ones. Ours inherit from a frozen empty null-prototype object instead: the same
 * behaviour for xmldom's uses (`hasOwn`, `in`, `for…in`, get/set/delete; no `Object.prototype` key such as
 * `constructor` or `__proto__` is ever inherited), fast-mode objects.
 */
const EMPTY: object = Object.freeze(Object.create(null) as object);
export const nullDict = <T>(): Record<string, T> => Object.create(EMPTY) as Record<string, T>;

/**
 * Most of the parse time of a large document is garbage collection of the tree being built (every node survives).
 * So the nodes carry only what they need: xmldom's per-node tables that are empty or derivable — `childNodes` of
 * a node without children, an element's namespace map `_nsMap` (from its xmlns attributes), the attribute lookup
 * index `_nsIndex`/`_noNsIndex` (from the attributes) — are created on first access, by accessors on thin
 * prototypes inserted between our nodes and xmldom's (`Object.create(Element.prototype)`…), which then store
 * them as own data properties, exactly as xmldom's constructors would have. `instanceof`, `constructor`, every
 * method and field come from xmldom's prototypes unchanged.
 */
function lazyOwn(proto: object, key: string, make: (self: Mut) => unknown): void {
  const define = (self: object, value: unknown): void => {
    Object.defineProperty(self, key, { value, writable: true, enumerable: true, configurable: true });
  };
  Object.defineProperty(proto, key, {
    configurable: true,
    enumerable: false,
    get(this: Mut) {
      const value = make(this);
      define(this, value);
      return value;
    },
    set(this: Mut, value: unknown) {
      define(this, value);
    },
  });
}
function EmptyNodeList(this: Mut): void {}
EmptyNodeList.prototype = NodeListProto;
/** What xmldom's `new NodeList()` makes: no own property (an inline allocation, unlike a `__proto__` literal). */
const emptyList = (): Mut => new (EmptyNodeList as unknown as { new (): Mut })();
function thinProto(ctor: unknown, lazyChildNodes: boolean): Mut {
  const p = Object.create((ctor as { prototype: object }).prototype as object) as Mut;
  if (lazyChildNodes) lazyOwn(p, 'childNodes', emptyList);
  return p;
}
// Elements get their childNodes when they end (assigning through an accessor would be slow).
const ElementP = thinProto(xmldom.Element, false);
const AttrP = thinProto(xmldom.Attr, true);
const TextP = thinProto(xmldom.Text, true);
lazyOwn(ElementP, '_nsMap', (el) => {
  const map = nullDict<string>();
  const attrs = el.attributes as Record<number, Mut> & { length: number };
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i]!;
    if (a.namespaceURI === NS_XMLNS) map[a.prefix ? (a.localName as string) : ''] = a.value as string;
  }
  return map;
});
const NamedNodeMapP = Object.create(NamedNodeMapProto) as Mut;
function buildIndex(map: Mut): void {
  const byNs = nullDict<Record<string, Mut>>();
  const noNs = nullDict<Mut>();
  const list = map as Record<number, Mut> & { length: number };
  for (let i = 0; i < list.length; i++) {
    const a = list[i]!;
    const ns = a.namespaceURI as string | null;
    (ns ? (byNs[ns] ??= nullDict<Mut>()) : noNs)[a.localName as string] = a;
  }
  // set through the accessors' setters: own data properties, in xmldom's order
  map._nsIndex = byNs;
  map._noNsIndex = noNs;
}
LongNamedNodeMap.prototype = NamedNodeMapP;

/*
 * Node constructors on the thin prototypes (a constructor allocates inline and keeps one hidden class per node
 * kind; a `{ __proto__: … }` literal costs a runtime call each). Own fields as xmldom's factories and
 * insertBefore set them; firstChild/lastChild are own from the start (null, as inherited) so that linking
 * children later does not change the element's hidden class.
 */
function ElementNode(this: Mut, doc: unknown, name: QName, ns: string | null, prev: unknown, parent: unknown, childNodes: unknown): void {
  this.attributes = null;
  this.childNodes = childNodes;
  this.ownerDocument = doc;
  this.nodeName = name.qName;
  this.tagName = name.qName;
  this.namespaceURI = ns;
  this.prefix = name.prefix;
  this.localName = name.localName;
  this.previousSibling = prev;
  this.nextSibling = null;
  this.parentNode = parent;
  this.firstChild = null;
  this.lastChild = null;
}
ElementNode.prototype = ElementP;
const ElementOf = ElementNode as unknown as { new (doc: unknown, name: QName, ns: string | null, prev: unknown, parent: unknown, childNodes: unknown): NodeObj };

function AttrNode(this: Mut, doc: unknown, el: unknown, name: QName, ns: string | null, value: string): void {
  this.namespaceURI = ns;
  this.prefix = name.prefix;
  this.ownerElement = el;
  this.ownerDocument = doc;
  this.nodeName = name.qName;
  this.name = name.qName;
  this.specified = true;
  this.localName = name.localName;
  this.nodeValue = value;
  this.value = value;
}
AttrNode.prototype = AttrP;
const AttrOf = AttrNode as unknown as { new (doc: unknown, el: unknown, name: QName, ns: string | null, value: string): NodeObj };

function TextNode(this: Mut, doc: unknown, data: string, prev: unknown, parent: unknown): void {
  this.ownerDocument = doc;
  this._data = data;
  this.length = data.length;
  this.previousSibling = prev;
  this.nextSibling = null;
  this.parentNode = parent;
}
TextNode.prototype = TextP;
const TextOf = TextNode as unknown as { new (doc: unknown, data: string, prev: unknown, parent: unknown): NodeObj };
const LongNamedNodeMapOf = LongNamedNodeMap as unknown as { new (el: unknown): List };
lazyOwn(NamedNodeMapP, '_nsIndex', (map) => {
  buildIndex(map);
  return map._nsIndex;
});
lazyOwn(NamedNodeMapP, '_noNsIndex', (map) => {
  buildIndex(map);
  return map._noNsIndex;
});

const impl = new xmldom.DOMImplementation();

// ASCII name character classes: 1 = NameStartChar (without ':'), 2 = NameChar only.
const NAME = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z_]/.test(ch)) NAME[c] = 1;
  else if (/[-.0-9]/.test(ch)) NAME[c] = 2;
}
const COLON = 58;

/**
 * The longest prefix free of characters XML 1.0 does not allow anywhere and of surrogates (allowed only in pairs,
 * checked where the prefix stops: they are rare). A greedy anchored character class runs several times faster
 * than searching for the first forbidden character.
 */
const CLEAN_PREFIX = /^[^\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]*/;
const CLEAN_RUN = /[^\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]*/y;
const ATTR_WS = /[\t\n\r]/g;

const isS = (c: number): boolean => c === 32 || c === 10 || c === 9 || c === 13;

function isXmlChar(cp: number): boolean {
  return cp === 9 || cp === 10 || cp === 13 || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * xmldom's line-end normalisation: `\r\n`, `\r\u0085`, then any other `\r`, U+0085, U+2028, U+2029 → `\n`
 * (one pass does the same: a pair starts with `\r` and ends with a character that cannot start one).
 */
const LINE_ENDS = /\r[\n\u0085]?|[\u0085\u2028\u2029]/g;
const CR = /\r\n?/g;
export function normalizeLineEndings(text: string): string {
  // indexOf is an order of magnitude faster than a regular expression scan
  if (text.indexOf('\r') < 0 && !hasRareLineEnds(text)) return text;
  return text.replace(LINE_ENDS, '\n');
}
function hasRareLineEnds(text: string): boolean {
  return text.indexOf('\u0085') >= 0 || text.indexOf('\u2028') >= 0 || text.indexOf('\u2029') >= 0;
}

/** Whether `text` contains `<!DOCTYPE` or `<!ENTITY`, in any (ASCII) case — `/<!(?:DOCTYPE|ENTITY)/i`, faster. */
export function hasDtdMarkup(text: string): boolean {
  for (let p = text.indexOf('<!'); p >= 0; p = text.indexOf('<!', p + 2)) {
    if (asciiWordAt(text, p + 2, 'doctype') || asciiWordAt(text, p + 2, 'entity')) return true;
  }
  return false;
}
function asciiWordAt(text: string, p: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = text.charCodeAt(p + i);
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Parses `text` (already decoded, no DOCTYPE check here) into an xmldom Document; throws XmlSyntaxError. */
export function parseXmlFast(input: string): Document {
  return new Builder(checkedSource(input), XMLDOM_KIT).run() as unknown as Document;
}

/** The same parse into the light, read-only tree (`light-dom.ts`). */
export function parseXmlLightFast(input: string): LightNode {
  return new Builder(checkedSource(input), LIGHT_KIT).run() as unknown as LightNode;
}

function checkedSource(input: string): string {
  // CR-LF documents (most) are normalised piece by piece, on the strings the tree keeps: no copy of the whole
  // text. The rare U+0085/U+2028/U+2029 line ends get xmldom's whole-text normalisation.
  let src = hasRareLineEnds(input) ? input.replace(LINE_ENDS, '\n') : input;
  if (src.charCodeAt(0) === 0xfeff) src = src.slice(1); // encoding signature, not content
  checkChars(src);
  return src;
}

function checkChars(src: string): void {
  let i = (CLEAN_PREFIX.exec(src) as RegExpExecArray)[0].length;
  while (i < src.length) {
    const c = src.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = src.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) throw err(src, i, 'unpaired UTF-16 surrogate');
    } else if (c >= 0xdc00 && c <= 0xdfff) throw err(src, i, 'unpaired UTF-16 surrogate');
    else throw err(src, i, `character U+${c.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`);
    CLEAN_RUN.lastIndex = i + 2;
    CLEAN_RUN.test(src);
    i = CLEAN_RUN.lastIndex;
  }
}

function err(src: string, pos: number, msg: string): XmlSyntaxError {
  let line = 1;
  let lineStart = 0;
  for (let i = src.indexOf('\n'); i >= 0 && i < pos; i = src.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return new XmlSyntaxError(`${msg} (line ${line}, column ${pos - lineStart + 1})`);
}

/** A qualified name seen in the document, split once (names repeat: one string per distinct name). */
interface QName {
  qName: string;
  prefix: string | null;
  localName: string;
}

interface PendingAttr {
  name: QName;
  value: string;
}

type List = Mut & { length: number };

// For lists longer than the literals below: constructors, whose objects share hidden classes as they grow
// (a property added to an object made by a `{ __proto__: … }` literal gets a hidden class of its own).
function LongNodeList(this: Mut): void {}
LongNodeList.prototype = NodeListProto;
const LongNodeListOf = LongNodeList as unknown as { new (): List };
function LongNamedNodeMap(this: Mut, el: unknown): void {
  this._ownerElement = el;
}

/** A NodeList (or, with `proto`, a NamedNodeMap) holding `items`: literals allocate exactly what they hold. */
function listOf(items: NodeObj[], n: number): List {
  const a = items;
  switch (n) {
    case 1:
      return { __proto__: NodeListProto, 0: a[0], length: 1 } as unknown as List;
    case 2:
      return { __proto__: NodeListProto, 0: a[0], 1: a[1], length: 2 } as unknown as List;
    case 3:
      return { __proto__: NodeListProto, 0: a[0], 1: a[1], 2: a[2], length: 3 } as unknown as List;
    case 4:
      return { __proto__: NodeListProto, 0: a[0], 1: a[1], 2: a[2], 3: a[3], length: 4 } as unknown as List;
    case 5:
      return { __proto__: NodeListProto, 0: a[0], 1: a[1], 2: a[2], 3: a[3], 4: a[4], length: 5 } as unknown as List;
    default: {
      const l = new LongNodeListOf();
      for (let i = 0; i < n; i++) l[i] = a[i];
      l.length = n;
      return l;
    }
  }
}

function attributeMap(el: NodeObj, a: NodeObj[], n: number): List {
  switch (n) {
    case 0:
      return new LongNamedNodeMapOf(el);
    case 1:
      return { __proto__: NamedNodeMapP, _ownerElement: el, 0: a[0], length: 1 } as unknown as List;
    case 2:
      return { __proto__: NamedNodeMapP, _ownerElement: el, 0: a[0], 1: a[1], length: 2 } as unknown as List;
    case 3:
      return { __proto__: NamedNodeMapP, _ownerElement: el, 0: a[0], 1: a[1], 2: a[2], length: 3 } as unknown as List;
    case 4:
      return { __proto__: NamedNodeMapP, _ownerElement: el, 0: a[0], 1: a[1], 2: a[2], 3: a[3], length: 4 } as unknown as List;
    default: {
      const l = new LongNamedNodeMapOf(el);
      for (let i = 0; i < n; i++) l[i] = a[i];
      l.length = n;
      return l;
    }
  }
}

/**
 * How the builder makes and links nodes: xmldom's (the DOM every consumer can use) or the light tree's
 * (`light-dom.ts`, for the documents the app only reads). The grammar, the checks and the errors are the same.
 */
interface NodeKit {
  document(): NodeObj;
  element(doc: NodeObj, name: QName, ns: string | null, prev: NodeObj | null, parent: NodeObj, selfClosing: boolean): NodeObj;
  attr(doc: NodeObj, el: NodeObj, name: QName, ns: string | null, value: string): NodeObj;
  /** Gives `el` its attributes (the first `n` of `nodes`, an array the builder reuses). */
  attributes(el: NodeObj, nodes: NodeObj[], n: number): void;
  text(doc: NodeObj, data: string, prev: NodeObj | null, parent: NodeObj): NodeObj;
  /** Appends `data` to a text node (xmldom's final normalize() merges text around an empty CDATA section). */
  appendText(node: NodeObj, data: string): void;
  /** Gives `node` its children (the builder's array for that depth, reused after). */
  children(node: NodeObj, kids: NodeObj[]): void;
  comment(doc: NodeObj, data: string): NodeObj;
  cdata(doc: NodeObj, data: string): NodeObj;
  pi(doc: NodeObj, target: string, data: string | undefined): NodeObj;
  root(doc: NodeObj, el: NodeObj): void;
}

const XMLDOM_KIT: NodeKit = {
  document: () => impl.createDocument(null, '') as unknown as NodeObj,
  element: (doc, name, ns, prev, parent, selfClosing) => new ElementOf(doc, name, ns, prev, parent, selfClosing ? emptyList() : null),
  attr: (doc, el, name, ns, value) => new AttrOf(doc, el, name, ns, value),
  attributes(el, nodes, n) {
    el.attributes = attributeMap(el, nodes, n);
  },
  text: (doc, data, prev, parent) => new TextOf(doc, data, prev, parent),
  appendText(node, data) {
    const merged = (node._data as string) + data;
    node._data = merged;
    node.length = merged.length;
  },
  children(node, kids) {
    if (node.nodeType === 9) {
      // the document's childNodes exists from the start
      const list = node.childNodes as List;
      for (let i = 0; i < kids.length; i++) list[i] = kids[i];
      list.length = kids.length;
    } else node.childNodes = kids.length ? listOf(kids, kids.length) : emptyList();
  },
  comment: (doc, data) => (doc as unknown as Document).createComment(data) as unknown as NodeObj,
  cdata: (doc, data) => (doc as unknown as Document).createCDATASection(data) as unknown as NodeObj,
  pi: (doc, target, data) => (doc as unknown as Document).createProcessingInstruction(target, data as string) as unknown as NodeObj,
  root(doc, el) {
    doc.documentElement = el;
  },
};

const LIGHT_KIT: NodeKit = {
  document: () => new LightNode(9, '#document', null, null, null, null, null) as unknown as NodeObj,
  element(doc, name, ns, prev, parent) {
    const el = new LightNode(1, name.qName, name.localName, name.prefix, ns, null, doc as unknown as LightNode);
    el.previousSibling = prev as unknown as LightNode | null;
    el.parentNode = parent as unknown as LightNode;
    return el as unknown as NodeObj;
  },
  attr(doc, el, name, ns, value) {
    const a = new LightNode(2, name.qName, name.localName, name.prefix, ns, value, doc as unknown as LightNode);
    a._link = el as unknown as LightNode;
    return a as unknown as NodeObj;
  },
  attributes(el, nodes, n) {
    (el as unknown as LightNode).attributes = nodes.slice(0, n) as unknown as LightNode[];
  },
  text(doc, data, prev, parent) {
    const t = new LightNode(3, '#text', null, null, null, data, doc as unknown as LightNode);
    t.previousSibling = prev as unknown as LightNode | null;
    t.parentNode = parent as unknown as LightNode;
    return t as unknown as NodeObj;
  },
  appendText(node, data) {
    (node as unknown as LightNode)._data += data;
  },
  children(node, kids) {
    if (kids.length) (node as unknown as LightNode).childNodes = kids.slice() as unknown as LightNode[];
  },
  comment: (doc, data) => new LightNode(8, '#comment', null, null, null, data, doc as unknown as LightNode) as unknown as NodeObj,
  cdata: (doc, data) => new LightNode(4, '#cdata-section', null, null, null, data, doc as unknown as LightNode) as unknown as NodeObj,
  pi: (doc, target, data) => new LightNode(7, target, null, null, null, data ?? '', doc as unknown as LightNode) as unknown as NodeObj,
  root(doc, el) {
    (doc as unknown as LightNode)._link = el as unknown as LightNode;
  },
};

class Builder {
  private readonly src: string;
  private readonly len: number;
  private readonly doc: NodeObj;
  /** Per depth (0 = the document): the open node, its tag name, its namespace scope, its children so far. */
  private readonly parents: NodeObj[] = [];
  private readonly names: string[] = [];
  private readonly nsMaps: Record<string, string | null>[] = [];
  private readonly kids: NodeObj[][] = [];
  private depth = 0;
  private root: NodeObj | null = null;
  /** Next '&' / ']]>' at or after the current text start (cached so text scanning stays linear). */
  private ampPos = -1;
  private cdEndPos = -1;
  /** Next '\r' at or after the current piece (line ends are normalised in the pieces the tree keeps). */
  private crPos = -1;
  private readonly attrs: PendingAttr[] = [];
  private readonly attrNodes: NodeObj[] = [];
  private readonly qnames = new Map<string, QName>();
  private readonly qcache: (QName | undefined)[] = new Array<QName | undefined>(512).fill(undefined);

  constructor(
    src: string,
    private readonly kit: NodeKit,
  ) {
    this.src = src;
    this.len = src.length;
    this.doc = kit.document();
    const rootNs = nullDict<string | null>();
    rootNs[''] = null;
    rootNs.xml = NS_XML;
    this.parents.push(this.doc as unknown as NodeObj);
    this.names.push('');
    this.nsMaps.push(rootNs);
    this.kids.push([]);
  }

  /** src[start, end) with xmldom's line-end normalisation (pieces never split a CR-LF pair: see parseXmlFast). */
  private raw(start: number, end: number): string {
    if (this.crPos < start) {
      const k = this.src.indexOf('\r', start);
      this.crPos = k < 0 ? this.len : k;
    }
    const piece = this.src.slice(start, end);
    return this.crPos < end ? piece.replace(CR, '\n') : piece;
  }

  private fail(pos: number, msg: string): never {
    throw err(this.src, pos, msg);
  }

  run(): NodeObj {
    const src = this.src;
    const len = this.len;
    let pos = 0;
    for (;;) {
      const lt = src.indexOf('<', pos);
      const textEnd = lt < 0 ? len : lt;
      if (textEnd > pos) this.text(pos, textEnd, lt >= 0);
      if (lt < 0) break;
      const c = src.charCodeAt(lt + 1);
      if (c === 47) pos = this.endTag(lt);
      else if (c === 33) pos = this.bang(lt);
      else if (c === 63) pos = this.pi(lt);
      else pos = this.startTag(lt);
    }
    if (this.depth > 0) this.fail(len, `unclosed element(s): ${this.names.slice(1, this.depth + 1).join(', ')}`);
    if (!this.root) this.fail(len, 'no root element');
    this.kit.children(this.doc, this.kids[0]!);
    return this.doc;
  }

  // ---------------------------------------------------------------------------------------------------------
  // linking (what xmldom's insertBefore/_onUpdateChild leave behind, minus the checks our grammar guarantees)

  /** Links `node` (created with previousSibling = parent.lastChild, parentNode = parent) as the last child. */
  private link(node: NodeObj, parent: NodeObj, prev: NodeObj | null): void {
    if (prev) prev.nextSibling = node;
    else parent.firstChild = node;
    parent.lastChild = node;
    this.kids[this.depth]!.push(node);
  }

  /** Links a node made by one of xmldom's factories (comments, CDATA sections, processing instructions). */
  private append(node: NodeObj): void {
    const parent = this.parents[this.depth]!;
    const prev = (parent.lastChild as NodeObj | null) ?? null;
    node.previousSibling = prev;
    node.nextSibling = null;
    node.parentNode = parent;
    this.link(node, parent, prev);
  }

  private newText(data: string): void {
    const parent = this.parents[this.depth]!;
    const prev = (parent.lastChild as NodeObj | null) ?? null;
    const t = this.kit.text(this.doc, data, prev, parent);
    this.link(t, parent, prev);
  }

  /** The end of an element's content: its children become its `childNodes`. */
  private close(d: number): void {
    const kids = this.kids[d]!;
    this.kit.children(this.parents[d]!, kids);
    kids.length = 0;
  }

  // ---------------------------------------------------------------------------------------------------------
  // character data

  private text(start: number, end: number, followedByMarkup: boolean): void {
    const src = this.src;
    if (this.depth === 0) {
      for (let i = start; i < end; i++) {
        if (!isS(src.charCodeAt(i))) this.fail(i, this.root ? 'content after the root element' : 'content before the root element');
      }
      // xmldom keeps whitespace between top-level constructs as Text children of the Document.
      if (followedByMarkup) this.newText(this.raw(start, end));
      return;
    }
    if (this.cdEndPos < start) {
      const k = src.indexOf(']]>', start);
      this.cdEndPos = k < 0 ? this.len : k;
    }
    if (this.cdEndPos < end) this.fail(this.cdEndPos, "']]>' is not allowed in text");
    if (this.ampPos < start) {
      const k = src.indexOf('&', start);
      this.ampPos = k < 0 ? this.len : k;
    }
    const data = this.ampPos < end ? this.decode(start, end) : this.raw(start, end);
    const last = this.parents[this.depth]!.lastChild as NodeObj | null;
    if (last && last.nodeType === 3) {
      // only after an empty CDATA section: xmldom's final normalize() merges the two text nodes
      this.kit.appendText(last, data);
      return;
    }
    this.newText(data);
  }

  /** Text with references, `this.ampPos` being the first '&' in [start, end). */
  private decode(start: number, end: number): string {
    const src = this.src;
    let out = '';
    let last = start;
    let amp = this.ampPos;
    while (amp < end) {
      if (amp > last) out += this.raw(last, amp);
      const semi = src.indexOf(';', amp + 1);
      if (semi < 0 || semi >= end) this.fail(amp, `invalid reference: ${src.slice(amp, Math.min(end, amp + 12))}`);
      out += refIn(src, amp, semi, (m) => this.fail(amp, m));
      last = semi + 1;
      amp = src.indexOf('&', last);
      if (amp < 0) amp = this.len;
    }
    this.ampPos = amp;
    return last < end ? out + this.raw(last, end) : out;
  }

  /** An attribute value: xmldom's normalisation (tab/LF/CR → space), then references. */
  private attrValue(raw: string, at: number): string {
    if (raw.indexOf('<') >= 0) this.fail(at, "'<' is not allowed in an attribute value");
    if (raw.indexOf('\n') >= 0 || raw.indexOf('\t') >= 0 || raw.indexOf('\r') >= 0) raw = raw.replace(ATTR_WS, ' ');
    let amp = raw.indexOf('&');
    if (amp < 0) return raw;
    let out = '';
    let last = 0;
    while (amp >= 0) {
      if (amp > last) out += raw.slice(last, amp);
      const semi = raw.indexOf(';', amp + 1);
      if (semi < 0) this.fail(at, `invalid reference in an attribute value: ${raw.slice(amp, amp + 12)}`);
      out += refIn(raw, amp, semi, (m) => this.fail(at, m));
      last = semi + 1;
      amp = raw.indexOf('&', last);
    }
    return last < raw.length ? out + raw.slice(last) : out;
  }

  // ---------------------------------------------------------------------------------------------------------
  // names

  /** End of the (Q)Name starting at `p` (ASCII fast path; other characters are checked by xmldom's grammar). */
  private nameEnd(p: number, qualified: boolean): number {
    const src = this.src;
    const start = p;
    let colon = -1;
    let ascii = true;
    for (;;) {
      const c = src.charCodeAt(p);
      if (c < 128) {
        const k = NAME[c];
        if (k === 1) {
          p++;
          continue;
        }
        if (k === 2) {
          if (p === start || (qualified && p === colon + 1)) return this.fail(p, 'invalid name');
          p++;
          continue;
        }
        if (c === COLON) {
          if (qualified && (colon >= 0 || p === start)) return this.fail(p, 'invalid qualified name');
          if (colon < 0) colon = p;
          p++;
          continue;
        }
        break; // a delimiter
      } else if (c === c) {
        ascii = false;
        p++;
        continue;
      }
      break; // end of input (NaN)
    }
    if (p === start) return this.fail(p, 'name expected');
    if (ascii) {
      if (qualified && colon === p - 1) this.fail(p, 'invalid qualified name');
    } else {
      const name = src.slice(start, p);
      if (!(qualified ? grammar.QName_exact : grammar.Name_exact).test(name)) this.fail(start, `invalid name: ${name}`);
    }
    return p;
  }

  /**
   * The QName at src[start, end): names repeat, so a small direct-mapped cache (hashed on length and three
   * characters, confirmed with `startsWith` on the source) returns the same strings without slicing.
   */
  private qname(start: number, end: number): QName {
    const src = this.src;
    const len = end - start;
    const h = (len * 31 + src.charCodeAt(start) * 7 + src.charCodeAt(end - 1) * 3 + src.charCodeAt(start + (len >> 1))) & 511;
    const cached = this.qcache[h];
    if (cached !== undefined && cached.qName.length === len && src.startsWith(cached.qName, start)) return cached;
    const q = src.slice(start, end);
    let n = this.qnames.get(q);
    if (!n) {
      const colon = q.indexOf(':');
      n = colon > 0 ? { qName: q, prefix: q.slice(0, colon), localName: q.slice(colon + 1) } : { qName: q, prefix: null, localName: q };
      this.qnames.set(q, n);
    }
    this.qcache[h] = n;
    return n;
  }

  private skipS(p: number): number {
    const src = this.src;
    while (isS(src.charCodeAt(p))) p++;
    return p;
  }

  // ---------------------------------------------------------------------------------------------------------
  // markup

  private startTag(lt: number): number {
    const src = this.src;
    if (this.depth === 0 && this.root) this.fail(lt, 'a second root element');
    let p = this.nameEnd(lt + 1, true);
    const name = this.qname(lt + 1, p);
    const attrs = this.attrs;
    attrs.length = 0;
    let selfClosing = false;
    for (;;) {
      let c = src.charCodeAt(p);
      if (c === 62) {
        p++;
        break;
      }
      if (c === 47) {
        if (src.charCodeAt(p + 1) !== 62) this.fail(p, "'/' must be followed by '>'");
        p += 2;
        selfClosing = true;
        break;
      }
      if (!isS(c)) this.fail(p, c === c ? `unexpected character in tag <${name.qName}>` : `unexpected end of input in tag <${name.qName}>`);
      p = this.skipS(p);
      c = src.charCodeAt(p);
      if (c === 62 || c === 47) continue;
      const an = p;
      p = this.nameEnd(p, true);
      const aName = this.qname(an, p);
      p = this.skipS(p);
      if (src.charCodeAt(p) !== 61) this.fail(p, `'=' expected after attribute ${aName.qName}`);
      p = this.skipS(p + 1);
      const q = src.charCodeAt(p);
      if (q !== 34 && q !== 39) this.fail(p, `quoted value expected for attribute ${aName.qName}`);
      const ve = src.indexOf(q === 34 ? '"' : "'", p + 1);
      if (ve < 0) this.fail(p, `unterminated value of attribute ${aName.qName}`);
      attrs.push({ name: aName, value: this.attrValue(this.raw(p + 1, ve), p) });
      p = ve + 1;
    }
    this.element(lt, name, selfClosing);
    return p;
  }

  private element(lt: number, name: QName, selfClosing: boolean): void {
    const attrs = this.attrs;
    const n = attrs.length;
    let ns = this.nsMaps[this.depth]!;
    let declares = false;
    for (let i = 0; i < n; i++) {
      const a = attrs[i]!;
      const an = a.name;
      if (an.prefix === 'xmlns' || an.qName === 'xmlns') {
        if (!declares) {
          ns = Object.create(ns) as Record<string, string | null>;
          declares = true;
        }
        const v = a.value;
        if (an.prefix === null) {
          if (v === NS_XML || v === NS_XMLNS) this.fail(lt, `the namespace ${v} cannot be the default namespace`);
          ns[''] = v;
        } else {
          const p = an.localName;
          if (p === 'xmlns') this.fail(lt, 'the prefix xmlns cannot be declared');
          if (p === 'xml' ? v !== NS_XML : v === NS_XML || v === NS_XMLNS) this.fail(lt, `the prefix ${p} cannot be bound to ${v}`);
          if (v === '') this.fail(lt, `the prefix ${p} cannot be undeclared (xmlns:${p}="")`);
          ns[p] = v;
        }
      }
    }
    const qName = name.qName;
    const prefix = name.prefix;
    let uri: string | null | undefined;
    if (prefix !== null) {
      if (prefix === 'xmlns') this.fail(lt, `an element cannot have the prefix xmlns: <${qName}>`);
      uri = ns[prefix];
      if (!uri) this.fail(lt, `unbound namespace prefix: <${qName}>`);
    } else {
      uri = ns[''] || null;
    }
    const doc = this.doc;
    const d = this.depth;
    const parent = this.parents[d]!;
    const prev = (parent.lastChild as NodeObj | null) ?? null;
    const el = this.kit.element(doc, name, uri, prev, parent, selfClosing);
    const nodes = this.attrNodes;
    nodes.length = n;
    let seen: Set<string> | undefined;
    for (let i = 0; i < n; i++) {
      const a = attrs[i]!;
      const an = a.name;
      const aPrefix = an.prefix;
      let aNs: string | null = null;
      if (aPrefix !== null) {
        if (aPrefix === 'xmlns') aNs = NS_XMLNS;
        else {
          aNs = ns[aPrefix] || null;
          if (!aNs) this.fail(lt, `unbound namespace prefix: attribute ${an.qName} of <${qName}>`);
        }
      } else if (an.qName === 'xmlns') aNs = NS_XMLNS;
      // A second attribute with the same qualified name, or the same namespace and local name under two
      // prefixes, is not well-formed (xmldom silently keeps the last of the latter).
      if (n <= 16) {
        for (let j = 0; j < i; j++) {
          const o = nodes[j]!;
          if (o.localName === an.localName && o.namespaceURI === aNs) this.fail(lt, `attribute ${an.qName} redefined on <${qName}>`);
        }
      } else {
        const key = `${an.localName}\u0000${aNs ?? ''}`; // U+0000 cannot occur in a name or a namespace URI
        if (i === 0) seen = new Set();
        if (seen!.has(key)) this.fail(lt, `attribute ${an.qName} redefined on <${qName}>`);
        seen!.add(key);
      }
      nodes[i] = this.kit.attr(doc, el, an, aNs, a.value);
    }
    this.kit.attributes(el, nodes, n);
    this.link(el, parent, prev);
    if (d === 0) {
      this.root = el;
      this.kit.root(doc, el);
    }
    if (!selfClosing) {
      const e = d + 1;
      this.depth = e;
      this.parents[e] = el;
      this.names[e] = qName;
      this.nsMaps[e] = ns;
      if (this.kids.length === e) this.kids.push([]);
    }
  }

  private endTag(lt: number): number {
    const src = this.src;
    const d = this.depth;
    if (d === 0) return this.fail(lt, 'end tag without a start tag');
    const name = this.names[d]!;
    const p = lt + 2;
    let q = p + name.length;
    if (!src.startsWith(name, p) || !(isS(src.charCodeAt(q)) || src.charCodeAt(q) === 62)) {
      const gt = src.indexOf('>', p);
      return this.fail(lt, `end tag </${src.slice(p, gt < 0 ? Math.min(this.len, p + 40) : gt)}> does not match <${name}>`);
    }
    q = this.skipS(q);
    if (src.charCodeAt(q) !== 62) this.fail(q, `'>' expected in end tag </${name}>`);
    this.close(d);
    this.parents[d] = undefined as never;
    this.depth = d - 1;
    return q + 1;
  }

  /** `<!--…-->`, `<![CDATA[…]]>`; anything else after `<!` is refused. */
  private bang(lt: number): number {
    const src = this.src;
    const doc = this.doc;
    if (src.startsWith('--', lt + 2)) {
      const k = src.indexOf('--', lt + 4);
      if (k < 0) this.fail(lt, 'unterminated comment');
      if (src.charCodeAt(k + 2) !== 62) this.fail(k, "'--' is not allowed inside a comment");
      this.append(this.kit.comment(doc, this.raw(lt + 4, k)));
      return k + 3;
    }
    if (src.startsWith('[CDATA[', lt + 2)) {
      if (this.depth === 0) this.fail(lt, 'CDATA section outside the root element');
      const k = src.indexOf(']]>', lt + 9);
      if (k < 0) this.fail(lt, 'unterminated CDATA section');
      // xmldom creates no node for an empty CDATA section
      if (k > lt + 9) this.append(this.kit.cdata(doc, this.raw(lt + 9, k)));
      return k + 3;
    }
    return this.fail(lt, "markup declarations ('<!…') are not accepted");
  }

  private pi(lt: number): number {
    const src = this.src;
    const ts = lt + 2;
    const te = this.nameEnd(ts, false);
    const target = src.slice(ts, te);
    let data: string | undefined;
    let end: number;
    if (src.startsWith('?>', te)) {
      end = te;
    } else {
      if (!isS(src.charCodeAt(te))) this.fail(te, `invalid processing instruction <?${target}`);
      const ds = this.skipS(te);
      end = src.indexOf('?>', ds);
      if (end < 0) this.fail(lt, 'unterminated processing instruction');
      data = this.raw(ds, end);
    }
    if (target.length === 3 && target.toLowerCase() === 'xml') {
      if (lt !== 0) this.fail(lt, 'the XML declaration is only allowed at the very start');
      if (!grammar.XMLDecl.test(src)) this.fail(lt, 'malformed XML declaration');
    }
    this.append(this.kit.pi(this.doc, target, data));
    return end + 2;
  }
}

/** The replacement text of a reference inside a string (attribute values). */
function refIn(s: string, amp: number, semi: number, fail: (msg: string) => never): string {
  if (s.charCodeAt(amp + 1) === 35) {
    const hex = s.charCodeAt(amp + 2) === 120;
    let i = amp + (hex ? 3 : 2);
    if (i === semi) return fail(`invalid character reference: ${s.slice(amp, semi + 1)}`);
    let cp = 0;
    for (; i < semi; i++) {
      const c = s.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (hex && c >= 97 && c <= 102) d = c - 87;
      else if (hex && c >= 65 && c <= 70) d = c - 55;
      else return fail(`invalid character reference: ${s.slice(amp, semi + 1)}`);
      cp = cp * (hex ? 16 : 10) + d;
      if (cp > 0x10ffff) break;
    }
    if (!isXmlChar(cp)) return fail(`character reference to a non-XML character: ${s.slice(amp, semi + 1)}`);
    return String.fromCodePoint(cp);
  }
  switch (s.slice(amp + 1, semi)) {
    case 'lt':
      return '<';
    case 'gt':
      return '>';
    case 'amp':
      return '&';
    case 'quot':
      return '"';
    case 'apos':
      return "'";
    default:
      return fail(`unknown entity reference: ${s.slice(amp, semi + 1)} (only the predefined entities are accepted)`);
  }
}
