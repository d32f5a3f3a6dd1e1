import { parseXml } from '../xml/safe-xml';

/** One concept of a value set. */
export interface Concept {
  code: string;
  codeSystem: string;
  displayName: string;
}

/** An IHE SVS value set as published by the ANS (NOS). */
export interface SvsValueSet {
  oid: string;
  /** The file's display name, e.g. `JDV_J07_XdsTypeCode_CISIS.tabs`. */
  displayName: string;
  /** revisionDate (ISO) — the version we carry. */
  version: string;
  /** urlFichier when present. */
  url?: string;
  concepts: Concept[];
}

/** Parses an IHE SVS `RetrieveValueSetResponse` (through safe-xml: no DTD, no entities). */
export function loadSvsValueSet(xml: string | Uint8Array): SvsValueSet {
  const doc = parseXml(xml, 'SVS value set');
  const vs = Array.from(doc.getElementsByTagNameNS('*', 'ValueSet'))[0];
  if (!vs) throw new Error('SVS: no ValueSet element');
  const concepts: Concept[] = [];
  for (const c of Array.from(vs.getElementsByTagNameNS('*', 'Concept'))) {
    concepts.push({
      code: c.getAttribute('code') ?? '',
      codeSystem: c.getAttribute('codeSystem') ?? '',
      displayName: c.getAttribute('displayName') ?? '',
    });
  }
  const url = vs.getAttribute('urlFichier') || undefined;
  return {
    oid: vs.getAttribute('id') ?? '',
    displayName: vs.getAttribute('displayName') ?? '',
    version: vs.getAttribute('revisionDate') || vs.getAttribute('dateMaj') || vs.getAttribute('version') || '',
    ...(url ? { url } : {}),
    concepts,
  };
}
