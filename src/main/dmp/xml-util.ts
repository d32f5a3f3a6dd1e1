import type { Document, Element, Node } from '@xmldom/xmldom';

/** Escapes text for element content and attribute values. */
export function esc(value: string | number): string {
  return String(value)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

const ELEMENT_NODE = 1;

/** Child elements (optionally by namespace + local name). */
export function children(parent: Element | Document | Node, ns?: string, local?: string): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType !== ELEMENT_NODE) continue;
    const e = n as Element;
    if (ns !== undefined && e.namespaceURI !== ns) continue;
    if (local !== undefined && e.localName !== local) continue;
    out.push(e);
  }
  return out;
}

export function child(parent: Element | Document | Node, ns: string, local: string): Element | undefined {
  return children(parent, ns, local)[0];
}

/** All descendants with this namespace + local name, in document order. */
export function descendants(parent: Element | Document, ns: string, local: string): Element[] {
  return Array.from(parent.getElementsByTagNameNS(ns, local) as unknown as ArrayLike<Element>);
}

export function descendant(parent: Element | Document, ns: string, local: string): Element | undefined {
  return descendants(parent, ns, local)[0];
}

export function text(e: Element | undefined | null): string {
  return (e?.textContent ?? '').trim();
}

export function attr(e: Element | undefined | null, name: string): string | undefined {
  if (!e || !e.hasAttribute(name)) return undefined;
  return e.getAttribute(name) ?? undefined;
}

/** A fresh `urn:uuid:` identifier. */
export function urnUuid(): string {
  return `urn:uuid:${crypto.randomUUID()}`;
}

/** A UUID-derived OID (`2.25.<128-bit integer>`), used for unique ids we mint. */
export function uuidOid(): string {
  const hex = crypto.randomUUID().replace(/-/g, '');
  return `2.25.${BigInt(`0x${hex}`).toString(10)}`;
}

/** `YYYYMMDDHHMMSS` in UTC, the DTM format of XDS time slots. */
export function dtm(d: Date = new Date()): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

/** Parses an XDS DTM (4 to 14 digits) as UTC. */
export function parseDtm(v: string): Date | undefined {
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?$/.exec(v.trim());
  if (!m) return undefined;
  const [, y, mo = '01', d = '01', h = '00', mi = '00', s = '00'] = m;
  const date = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
