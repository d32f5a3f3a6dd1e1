/**
 * Safe HTML rendering of a CDA narrative. Built from an allow-list: every CDA narrative element maps to an
 * inert HTML element, all text is escaped, no attribute except numeric table spans survives, no URL of any
 * kind is emitted (linkHtml becomes plain text, renderMultiMedia a placeholder) — so no script, no style,
 * no external fetch, whatever the input.
 */
import type { Element, Node } from '@xmldom/xmldom';
import { parseXmlForReading } from '../xml/safe-xml';
import type { ParsedCda } from './types';
import { child, children, esc } from './xml-util';

const MAP: Record<string, string> = {
  paragraph: 'p',
  list: 'ul',
  item: 'li',
  table: 'table',
  thead: 'thead',
  tbody: 'tbody',
  tfoot: 'tfoot',
  tr: 'tr',
  th: 'th',
  td: 'td',
  caption: 'caption',
  sub: 'sub',
  sup: 'sup',
  footnote: 'small',
  content: 'span',
  linkHtml: 'span',
};
const DROP_CONTENT = new Set(['script', 'style', 'iframe', 'object', 'embed', 'renderMultiMedia', 'col', 'colgroup']);
const MAX_DEPTH = 64;

function styleWrap(e: Element, inner: string): string {
  const sc = (e.getAttribute('styleCode') ?? '').split(/\s+/);
  let out = inner;
  if (sc.includes('Bold')) out = `<strong>${out}</strong>`;
  if (sc.includes('Italics')) out = `<em>${out}</em>`;
  if (sc.includes('Underline')) out = `<u>${out}</u>`;
  return out;
}

function spanAttr(e: Element, name: 'colspan' | 'rowspan'): string {
  const v = e.getAttribute(name);
  return v && /^\d{1,3}$/.test(v) ? ` ${name}="${v}"` : '';
}

function renderNode(n: Node, depth: number): string {
  if (n.nodeType === 3 || n.nodeType === 4) return esc(n.nodeValue ?? '');
  if (n.nodeType !== 1) return '';
  const e = n as Element;
  const local = e.localName ?? e.nodeName;
  if (local === 'renderMultiMedia') return '<span class="cda-media">[image jointe]</span>';
  if (DROP_CONTENT.has(local)) return '';
  if (local === 'br') return '<br>';
  if (depth > MAX_DEPTH) return esc(e.textContent ?? '');
  let inner = '';
  for (let c = e.firstChild; c; c = c.nextSibling) inner += renderNode(c, depth + 1);
  if (local === 'footnoteRef') return '<sup>*</sup>';
  if (local === 'list') {
    const tag = e.getAttribute('listType') === 'ordered' ? 'ol' : 'ul';
    return `<${tag}>${inner}</${tag}>`;
  }
  const tag = MAP[local];
  if (!tag) return inner; // unknown element: keep its text, drop the element
  const attrs = tag === 'td' || tag === 'th' ? spanAttr(e, 'colspan') + spanAttr(e, 'rowspan') : '';
  return `<${tag}${attrs}>${styleWrap(e, inner)}</${tag}>`;
}

function renderSection(section: Element, level: number, counter: { n: number }): string {
  counter.n++;
  const parts: string[] = ['<section>'];
  const title = child(section, 'title');
  const h = `h${Math.min(level + 1, 6)}`;
  if (title) parts.push(`<${h}>${esc((title.textContent ?? '').replace(/\s+/g, ' ').trim())}</${h}>`);
  const t = child(section, 'text');
  if (t) parts.push(`<div class="cda-text">${renderNode(t, 0).replace(/^<span>|<\/span>$/g, '')}</div>`);
  for (const comp of children(section, 'component')) {
    for (const s of children(comp, 'section')) if (level < 12) parts.push(renderSection(s, level + 1, counter));
  }
  parts.push('</section>');
  return parts.join('');
}

/** structuredBody → safe HTML + number of sections. */
export function narrativeToHtml(structuredBody: Element): { html: string; sectionCount: number } {
  const counter = { n: 0 };
  const parts = ['<div class="cda-narrative">'];
  for (const comp of children(structuredBody, 'component')) {
    for (const s of children(comp, 'section')) parts.push(renderSection(s, 1, counter));
  }
  parts.push('</div>');
  return { html: parts.join(''), sectionCount: counter.n };
}

/** Safe HTML for the UI: a narrative body, the text of a plain-text body, or a placeholder for an embedded file. */
export function renderNarrativeHtml(input: ParsedCda | string | Buffer): string {
  if (typeof input === 'string' || Buffer.isBuffer(input)) {
    const doc = parseXmlForReading(input, 'CDA').documentElement!;
    const sb = child(child(doc, 'component'), 'structuredBody');
    if (sb) return narrativeToHtml(sb).html;
    const t = child(child(child(doc, 'component'), 'nonXMLBody'), 'text');
    if (t?.getAttribute('mediaType') === 'text/plain') {
      const raw = t.getAttribute('representation') === 'B64' ? Buffer.from((t.textContent ?? '').replace(/\s+/g, ''), 'base64').toString('utf8') : (t.textContent ?? '');
      return `<div class="cda-narrative"><pre>${esc(raw)}</pre></div>`;
    }
    return '<div class="cda-narrative"><p>Document joint (voir le fichier d\u2019origine).</p></div>';
  }
  const b = input.body;
  if (b.kind === 'narrative') return b.html;
  if (b.kind === 'text') return `<div class="cda-narrative"><pre>${esc(b.text)}</pre></div>`;
  if (b.kind === 'pdf') return '<div class="cda-narrative"><p>Document PDF joint (voir le fichier d\u2019origine).</p></div>';
  if (b.kind === 'file') return `<div class="cda-narrative"><p>Fichier joint (${esc(b.mediaType)}).</p></div>`;
  return '<div class="cda-narrative"><p>Document sans contenu.</p></div>';
}
