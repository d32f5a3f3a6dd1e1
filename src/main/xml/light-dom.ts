/**
 * A read-only tree for the documents the app only reads — CDA, XDM METADATA.XML — built by the same strict parser
 * as the xmldom tree (`fast-parse.ts`), with the same refusals. Every node is one class with the same fields: the
 * readers' property loads see a single hidden class, so V8 keeps them monomorphic, and compiles them once and
 * small (the xmldom tree's several classes — elements, attributes, texts, lists and maps of each size — made the
 * CDA and ebRIM readers the largest and most often recompiled functions of a mail sync). It offers what those
 * readers use of the DOM, with the DOM's meaning: node kind and names, namespace, links, `childNodes` (an array),
 * `attributes` (an array), `getAttribute`/`getAttributeNS`/`hasAttribute`, `textContent`, `nodeValue`/`data`,
 * `getElementsByTagNameNS`, `documentElement`. It is typed as xmldom's Document for those readers; anything that
 * serialises, signs or edits a tree takes `parseXml`'s xmldom Document instead.
 */
export const enum Kind {
  Element = 1,
  Attribute = 2,
  Text = 3,
  CData = 4,
  PI = 7,
  Comment = 8,
  Document = 9,
}

export class LightNode {
  nodeType: number;
  nodeName: string;
  localName: string | null;
  prefix: string | null;
  namespaceURI: string | null;
  ownerDocument: LightNode | null;
  parentNode: LightNode | null;
  previousSibling: LightNode | null;
  nextSibling: LightNode | null;
  firstChild: LightNode | null;
  lastChild: LightNode | null;
  childNodes: LightNode[];
  attributes: LightNode[] | null;
  /** Character data (text, CDATA, comment, PI data) or an attribute's value. */
  _data: string | null;
  /** The owner element of an attribute; the root element of a document. */
  _link: LightNode | null;

  constructor(nodeType: number, nodeName: string, localName: string | null, prefix: string | null, namespaceURI: string | null, data: string | null, doc: LightNode | null) {
    this.nodeType = nodeType;
    this.nodeName = nodeName;
    this.localName = localName;
    this.prefix = prefix;
    this.namespaceURI = namespaceURI;
    this.ownerDocument = doc;
    this.parentNode = null;
    this.previousSibling = null;
    this.nextSibling = null;
    this.firstChild = null;
    this.lastChild = null;
    this.childNodes = NO_NODES;
    this.attributes = null;
    this._data = data;
    this._link = null;
  }

  get tagName(): string | undefined {
    return this.nodeType === Kind.Element ? this.nodeName : undefined;
  }

  get documentElement(): LightNode | null {
    return this.nodeType === Kind.Document ? this._link : null;
  }

  get ownerElement(): LightNode | null {
    return this.nodeType === Kind.Attribute ? this._link : null;
  }

  /** The DOM's: the data of character data and attributes, null for elements and documents. */
  get nodeValue(): string | null {
    return this.nodeType === Kind.Element || this.nodeType === Kind.Document ? null : this._data;
  }

  get data(): string | undefined {
    return this.nodeType === Kind.Element || this.nodeType === Kind.Document || this.nodeType === Kind.Attribute ? undefined : (this._data ?? '');
  }

  get value(): string | undefined {
    return this.nodeType === Kind.Attribute ? (this._data ?? '') : undefined;
  }

  get name(): string | undefined {
    return this.nodeType === Kind.Attribute ? this.nodeName : undefined;
  }

  get target(): string | undefined {
    return this.nodeType === Kind.PI ? this.nodeName : undefined;
  }

  get length(): number | undefined {
    return this.nodeType === Kind.Text || this.nodeType === Kind.CData || this.nodeType === Kind.Comment ? (this._data ?? '').length : undefined;
  }

  /** The DOM's: the text of every descendant Text and CDATA node, in document order (null for a document). */
  get textContent(): string | null {
    switch (this.nodeType) {
      case Kind.Document:
        return null;
      case Kind.Element: {
        let out = '';
        const end = this.nextInDocument(false);
        for (let n = this.firstChild; n && n !== end; n = n.nextInDocument(true)) {
          if (n.nodeType === Kind.Text || n.nodeType === Kind.CData) out += n._data;
        }
        return out;
      }
      default:
        return this._data ?? '';
    }
  }

  getAttribute(qualifiedName: string): string | null {
    const attrs = this.attributes;
    if (attrs) for (let i = 0; i < attrs.length; i++) if (attrs[i]!.nodeName === qualifiedName) return attrs[i]!._data;
    return null;
  }

  getAttributeNS(namespaceURI: string | null, localName: string): string | null {
    const attrs = this.attributes;
    const ns = namespaceURI || null;
    if (attrs) for (let i = 0; i < attrs.length; i++) if (attrs[i]!.localName === localName && attrs[i]!.namespaceURI === ns) return attrs[i]!._data;
    return null;
  }

  hasAttribute(qualifiedName: string): boolean {
    return this.getAttribute(qualifiedName) !== null;
  }

  /** Descendant elements in document order (a snapshot array; the tree never changes). `'*'` matches any. */
  getElementsByTagNameNS(namespaceURI: string | null, localName: string): LightNode[] {
    const out: LightNode[] = [];
    const anyNs = namespaceURI === '*';
    const ns = namespaceURI || null;
    const anyName = localName === '*';
    const end = this.nextInDocument(false);
    for (let n = this.firstChild; n && n !== end; n = n.nextInDocument(true)) {
      if (n.nodeType === Kind.Element && (anyNs || n.namespaceURI === ns) && (anyName || n.localName === localName)) out.push(n);
    }
    return out;
  }

  /** The next node in document order: the first child (when `into`), else the next sibling of this node or of the nearest ancestor that has one. */
  private nextInDocument(into: boolean): LightNode | null {
    if (into && this.firstChild) return this.firstChild;
    for (let n: LightNode | null = this; n; n = n.parentNode) if (n.nextSibling) return n.nextSibling;
    return null;
  }
}

const NO_NODES: LightNode[] = Object.freeze([]) as unknown as LightNode[];
