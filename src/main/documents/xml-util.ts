/** Small helpers shared by the CDA / ebRIM writers and readers. */
import crypto from 'node:crypto';
import type { Element } from '@xmldom/xmldom';

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;'));
}

/** `<name a="v" …/>` with escaped attribute values; undefined attributes are left out. */
export function el(name: string, attrs: Record<string, string | number | undefined>, children?: string): string {
  const a = Object.entries(attrs)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => ` ${k}="${esc(String(v))}"`)
    .join('');
  return children === undefined ? `<${name}${a}/>` : `<${name}${a}>${children}</${name}>`;
}

/** A new OID under 2.25 (UUID as a decimal integer) — the ITU-T X.667 way, no registration needed. */
export function newOid(): string {
  const hex = crypto.randomUUID().replace(/-/g, '');
  return `2.25.${BigInt('0x' + hex).toString(10)}`;
}

export function newUuidUrn(): string {
  return `urn:uuid:${crypto.randomUUID()}`;
}

export function sha1Hex(data: Uint8Array): string {
  return crypto.createHash('sha1').update(data).digest('hex');
}

/** Child elements (any namespace) with this local name. */
export function children(parent: Element | null | undefined, local: string): Element[] {
  if (!parent) return [];
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && ((n as Element).localName ?? (n as Element).nodeName) === local) out.push(n as Element);
  }
  return out;
}

export function child(parent: Element | null | undefined, local: string): Element | undefined {
  return children(parent, local)[0];
}

/** Follows a path of local names, first match at each step. */
export function path(parent: Element | null | undefined, ...locals: string[]): Element | undefined {
  let cur: Element | undefined = parent ?? undefined;
  for (const l of locals) {
    cur = child(cur, l);
    if (!cur) return undefined;
  }
  return cur;
}

export function attr(e: Element | null | undefined, name: string): string | undefined {
  const v = e?.getAttribute(name);
  return v === null || v === undefined || v === '' ? undefined : v;
}

export function text(e: Element | null | undefined): string | undefined {
  const t = e?.textContent?.replace(/\s+/g, ' ').trim();
  return t ? t : undefined;
}

// ------------------------------------------------------------------------------------------ dates

/** ISO 8601 (date or date-time with offset) → HL7 TS (YYYYMMDD[HHMMSS[+ZZZZ]]). */
export function isoToHl7(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$/.exec(iso.trim());
  if (!m) throw new Error(`not an ISO 8601 date: ${iso}`);
  const [, y, mo, d, h, mi, s, tz] = m;
  if (!h) return `${y}${mo}${d}`;
  const zone = !tz ? '' : tz === 'Z' ? '+0000' : tz.replace(':', '');
  return `${y}${mo}${d}${h}${mi}${s ?? '00'}${zone}`;
}

/** A Date as HL7 TS in the machine's local offset. */
export function dateToHl7Local(d: Date): string {
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60_000);
  const p = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
  const sign = off >= 0 ? '+' : '-';
  return (
    `${local.getUTCFullYear()}${p(local.getUTCMonth() + 1)}${p(local.getUTCDate())}` +
    `${p(local.getUTCHours())}${p(local.getUTCMinutes())}${p(local.getUTCSeconds())}${sign}${p(Math.trunc(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`
  );
}

/** HL7 TS → ISO 8601 (keeps the precision; offset kept when present). */
export function hl7ToIso(ts: string | undefined): string | undefined {
  if (!ts) return undefined;
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$/.exec(ts.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, tz] = m;
  let out = y!;
  if (mo) out += `-${mo}`;
  if (d) out += `-${d}`;
  if (h) out += `T${h}:${mi ?? '00'}:${s ?? '00'}`;
  if (h && tz) out += `${tz.slice(0, 3)}:${tz.slice(3)}`;
  return out;
}

/** HL7 TS → XDS DTM in UTC (YYYYMMDDhhmmss, or the date part only when no time). */
export function hl7ToXdsUtc(ts: string | undefined): string | undefined {
  if (!ts) return undefined;
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d+)?([+-]\d{4})?$/.exec(ts.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, tz] = m;
  if (!h || !tz) return `${y}${mo ?? ''}${d ?? ''}${h ?? ''}${h ? (mi ?? '00') + (s ?? '00') : ''}`;
  const sign = tz.startsWith('-') ? -1 : 1;
  const offMin = sign * (Number(tz.slice(1, 3)) * 60 + Number(tz.slice(3, 5)));
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi ?? 0), Number(s ?? 0)) - offMin * 60_000;
  return new Date(t).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export function dateToXdsUtc(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}
