import { X509Certificate } from 'node:crypto';
import { NATIONAL_ID_TYPES, PROFESSION_LABELS } from '../pki/igc-sante-profile';

/** The card holder as read from the CPS authentication certificate subject. */
export interface HolderIdentity {
  /** National id with its type prefix (8 + RPPS, 0 + ADELI…). */
  nationalId: string;
  idType: string;
  idTypeLabel?: string;
  /** The id without its type prefix. */
  localId: string;
  lastName?: string;
  firstName?: string;
  professionCode?: string;
  profession?: string;
  structureName?: string;
  structureId?: string;
}

/** Parses a DN as Node prints it (`KEY=value` per line; multi-valued RDNs joined by `+`). */
export function parseDn(dn: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of dn.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/**
 * Holder identity from a CPS-like subject. Accepted layouts (the production layout is unconfirmed; see
 * pki/igc-sante-profile.ts): national id in CN (`899700012345` or `899700012345/…`) or in serialNumber;
 * names in SN/GN (or "FIRST LAST" in CN); profession in title (`Médecin (10)`, `10`, or a label).
 */
export function parseHolderIdentity(cert: X509Certificate | string | Uint8Array): HolderIdentity | undefined {
  const c = cert instanceof X509Certificate ? cert : new X509Certificate(typeof cert === 'string' ? cert : Buffer.from(cert));
  const dn = parseDn(c.subject);
  const first = (k: string) => dn.get(k)?.[0];
  const idFrom = (v?: string) => v?.match(/^(\d)(\d{5,14})(?:\/.*)?$/);
  const m = idFrom(first('CN')) ?? idFrom(first('serialNumber'));
  if (!m) return undefined;
  const idType = m[1]!;
  const title = first('title');
  let professionCode: string | undefined;
  let profession: string | undefined;
  if (title) {
    const t = /^(.*?)\s*\((\d{1,3})\)$/.exec(title) ?? /^()(\d{1,3})$/.exec(title);
    if (t) {
      professionCode = t[2];
      profession = t[1] || PROFESSION_LABELS[t[2]!];
    } else {
      profession = title;
      professionCode = Object.entries(PROFESSION_LABELS).find(([, l]) => l.toLowerCase() === title.toLowerCase())?.[0];
    }
  }
  return {
    nationalId: `${m[1]}${m[2]}`,
    idType,
    ...(NATIONAL_ID_TYPES[idType] ? { idTypeLabel: NATIONAL_ID_TYPES[idType] } : {}),
    localId: m[2]!,
    ...(first('SN') ? { lastName: first('SN') } : {}),
    ...(first('GN') ? { firstName: first('GN') } : {}),
    ...(professionCode ? { professionCode } : {}),
    ...(profession ? { profession } : {}),
    ...(first('O') ? { structureName: first('O') } : {}),
    ...(first('OU') && /^\d{6,}$/.test(first('OU')!) ? { structureId: first('OU') } : {}),
  };
}
