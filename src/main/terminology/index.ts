/**
 * CI-SIS value sets the app needs, from the generated table (codes + French labels + source + version).
 * Loaded once (lazy), Map lookups.
 */
import type { XdsCode } from '../documents/types';
import { CLASS_CODES, CLASS_CODE_SYSTEM, DEFAULT_CLASS_CODE, TYPE_TO_CLASS } from '../documents/wire-profile';
import { GENERATED_VALUE_SETS } from './value-sets.generated';
import { VALUE_SET_FILES, type ValueSetName } from './value-set-files';
import type { Concept } from './svs';

export { loadSvsValueSet, type Concept, type SvsValueSet } from './svs';
export { VALUE_SET_FILES, type ValueSetName } from './value-set-files';

export interface ValueSetInfo {
  name: ValueSetName;
  file: string;
  oid: string;
  version: string;
  source: string;
  concepts: Concept[];
}

let cache: Map<ValueSetName, { info: ValueSetInfo; byCode: Map<string, Concept[]> }> | undefined;

function load(): NonNullable<typeof cache> {
  if (cache) return cache;
  const m = new Map<ValueSetName, { info: ValueSetInfo; byCode: Map<string, Concept[]> }>();
  for (const g of GENERATED_VALUE_SETS) {
    const concepts: Concept[] = g.concepts.map(([code, sys, displayName]) => ({ code, codeSystem: g.systems[sys] ?? '', displayName }));
    const byCode = new Map<string, Concept[]>();
    for (const c of concepts) {
      const list = byCode.get(c.code);
      if (list) list.push(c);
      else byCode.set(c.code, [c]);
    }
    m.set(g.name, { info: { name: g.name, file: g.file, oid: g.oid, version: g.version, source: g.source, concepts }, byCode });
  }
  cache = m;
  return m;
}

export function valueSetNames(): ValueSetName[] {
  return Object.keys(VALUE_SET_FILES) as ValueSetName[];
}

export function valueSet(name: ValueSetName): ValueSetInfo {
  const e = load().get(name);
  if (!e) throw new Error(`unknown value set ${name}`);
  return e.info;
}

/** The concept with this code (and code system, when given), or undefined. */
export function lookupCode(name: ValueSetName, code: string, codeSystem?: string): Concept | undefined {
  const list = load().get(name)?.byCode.get(code);
  if (!list) return undefined;
  return codeSystem ? list.find((c) => c.codeSystem === codeSystem) : list[0];
}

export function labelOf(name: ValueSetName, code: string, codeSystem?: string): string | undefined {
  return lookupCode(name, code, codeSystem)?.displayName;
}

/** XDS classCode for a J07 typeCode (mapping in wire-profile, partly unconfirmed). */
export function classCodeForType(typeCode: string): XdsCode {
  const code = TYPE_TO_CLASS[typeCode] ?? DEFAULT_CLASS_CODE;
  return { code, codingScheme: CLASS_CODE_SYSTEM, displayName: CLASS_CODES[code] ?? code };
}

/** Concept → XdsCode. */
export function toXdsCode(c: Concept): XdsCode {
  return { code: c.code, codingScheme: c.codeSystem, displayName: c.displayName };
}
