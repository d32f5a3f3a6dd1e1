/**
 * Read models of the DMP record screen on top of the client: documents grouped with their earlier versions,
 * one document prepared for display, and a new version built from the retrieved CDA (documents capability).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DmpDocument, DmpDocumentGroup, DmpDocumentView } from '../../shared/api/dmp';
import { DMP_VIEW_PDF_CAP_BYTES } from '../../shared/api/dmp';
import { AppError } from '../core/errors';
import { buildNewVersion, parseCda, renderNarrativeHtml } from '../documents';
import type { ParsedCda } from '../documents/types';
import type { DmpClient, Patient } from './client';

const CONFIDENTIALITY: Record<string, string> = { N: 'Normal', R: 'Restreint', V: 'Très restreint' };

const versionOf = (d: DmpDocument): number => Number(d.version ?? '1') || 1;
const isCurrent = (d: DmpDocument): boolean => d.status !== 'deprecated';

/**
 * Groups a flat TD3.1 result: every entry of a uniqueId under its newest (metadata versions), then the chains
 * of replacements (`replaces`: uniqueId → the uniqueIds its CDA replaces, RPLC) under the newest document.
 * Newest first (creation time); signature entries are left out.
 */
export function groupVersions(docs: DmpDocument[], replaces: Map<string, string[]>): DmpDocumentGroup[] {
  const byUid = new Map<string, DmpDocument[]>();
  for (const d of docs) {
    if (d.isSignature) continue;
    const list = byUid.get(d.uniqueId);
    if (list) list.push(d);
    else byUid.set(d.uniqueId, [d]);
  }
  for (const list of byUid.values()) list.sort((a, b) => Number(isCurrent(b)) - Number(isCurrent(a)) || versionOf(b) - versionOf(a));
  // newer[old] = the uniqueId that replaced it (only between uniqueIds present here).
  const newer = new Map<string, string>();
  for (const [uid, olds] of replaces) {
    if (!byUid.has(uid)) continue;
    for (const old of olds) if (old !== uid && byUid.has(old) && !newer.has(old)) newer.set(old, uid);
  }
  const rootOf = (uid: string): string => {
    const seen = new Set<string>();
    let cur = uid;
    while (newer.has(cur) && !seen.has(cur)) {
      seen.add(cur);
      cur = newer.get(cur)!;
    }
    return cur;
  };
  const chains = new Map<string, string[]>();
  for (const uid of byUid.keys()) {
    const root = rootOf(uid);
    if (root === uid) continue;
    const list = chains.get(root);
    if (list) list.push(uid);
    else chains.set(root, [uid]);
  }
  const groups: DmpDocumentGroup[] = [];
  for (const [uid, list] of byUid) {
    if (rootOf(uid) !== uid) continue;
    const [current, ...older] = list;
    const replaced = (chains.get(uid) ?? [])
      .flatMap((u) => byUid.get(u) ?? [])
      .sort((a, b) => (b.creationTime ?? '').localeCompare(a.creationTime ?? '') || versionOf(b) - versionOf(a));
    groups.push({
      current: current!,
      previous: [...older.map((document) => ({ document, kind: 'metadata' as const })), ...replaced.map((document) => ({ document, kind: 'replaced' as const }))],
    });
  }
  return groups.sort((a, b) => (b.current.creationTime ?? '').localeCompare(a.current.creationTime ?? ''));
}

/** RPLC parents of a CDA, as uniqueIds (root^extension or root). Immutable per uniqueId: cached. */
const rplcCache = new Map<string, string[]>();
const RPLC_CACHE_MAX = 2000;

function rplcParents(cda: Buffer): string[] {
  try {
    const parsed = parseCda(cda);
    return parsed.header.relatedDocuments.filter((r) => r.typeCode === 'RPLC').flatMap((r) => r.parentIds.map((id) => (id.extension ? `${id.root}^${id.extension}` : id.root)));
  } catch {
    return [];
  }
}

/**
 * Which current documents replace which: needed only when some uniqueId has nothing but deprecated entries (an
 * RPLC'd document). Reads the RPLC of the current CDAs (TD3.2, one request, at most `max`), cached by uniqueId.
 */
export async function replacementsOf(client: DmpClient, p: Patient, docs: DmpDocument[], max = 50): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const uids = new Map<string, DmpDocument[]>();
  for (const d of docs) if (!d.isSignature) uids.set(d.uniqueId, [...(uids.get(d.uniqueId) ?? []), d]);
  const orphans = [...uids.values()].filter((l) => l.every((d) => d.status === 'deprecated'));
  if (!orphans.length) return out;
  const oldest = orphans.flat().reduce((m, d) => (d.creationTime && d.creationTime < m ? d.creationTime : m), '99999999');
  const candidates = [...uids.values()]
    .map((l) => l.find(isCurrent))
    .filter((d): d is DmpDocument => !!d && d.mimeType === 'text/xml' && (d.creationTime ?? '99999999') >= oldest);
  const toFetch: DmpDocument[] = [];
  for (const d of candidates) {
    const cached = rplcCache.get(d.uniqueId);
    if (cached) out.set(d.uniqueId, cached);
    else if (d.repositoryUniqueId && toFetch.length < max) toFetch.push(d);
  }
  if (toFetch.length) {
    const r = await client.retrieve(p, toFetch.map((d) => ({ uniqueId: d.uniqueId, repositoryUniqueId: d.repositoryUniqueId! })));
    for (const got of r.documents) {
      const parents = rplcParents(got.data);
      if (rplcCache.size >= RPLC_CACHE_MAX) rplcCache.clear();
      rplcCache.set(got.uniqueId, parents);
      out.set(got.uniqueId, parents);
    }
  }
  return out;
}

function personName(p: { prefix?: string; given?: string; family?: string }): string {
  return [p.prefix, p.given, p.family].filter(Boolean).join(' ') || 'Auteur non précisé';
}

function safeName(title: string): string {
  return `${(title || 'document').replace(/[^\p{L}\p{N} ._-]+/gu, '_').slice(0, 80)}.pdf`;
}

/** A retrieved document prepared for display (never trusted: parsed with the safe XML parser, HTML allow-listed). */
export function documentView(document: DmpDocument, data: Buffer): DmpDocumentView {
  if (document.mimeType === 'application/dicom') {
    return { document, kind: 'dicom', header: null, html: '', pdf: null };
  }
  if (document.mimeType !== 'text/xml') {
    if (document.mimeType === 'application/pdf') {
      const tooLarge = data.length > DMP_VIEW_PDF_CAP_BYTES;
      return { document, kind: 'other', header: null, html: '', pdf: { name: safeName(document.title ?? ''), size: data.length, base64: tooLarge ? null : data.toString('base64'), tooLarge } };
    }
    return { document, kind: 'other', header: null, html: '', pdf: null };
  }
  let parsed: ParsedCda;
  try {
    parsed = parseCda(data);
  } catch (err) {
    const e = err as AppError;
    throw new AppError('DMP_DOCUMENT_UNREADABLE', "Le document du DMP n'a pas pu être lu : ce n'est pas un CDA valide.", `${e.code ?? 'ERROR'}: ${e.detail ?? e.message}`);
  }
  const h = parsed.header;
  const svc = h.serviceEvents[0];
  const pdfBytes = parsed.body.kind === 'pdf' ? parsed.body.pdf : undefined;
  const tooLarge = !!pdfBytes && pdfBytes.length > DMP_VIEW_PDF_CAP_BYTES;
  return {
    document,
    kind: 'cda',
    header: {
      title: h.title,
      typeCode: h.typeCode.code,
      typeLabel: h.typeCode.displayName ?? document.typeCode?.display ?? null,
      effectiveTime: h.effectiveTime ?? null,
      confidentiality: h.confidentiality ? (CONFIDENTIALITY[h.confidentiality.code] ?? h.confidentiality.displayName ?? h.confidentiality.code) : null,
      authors: h.authors.map((a) => ({ name: personName(a), organization: a.organization?.name ?? null })),
      custodian: h.custodian?.name ?? null,
      patient: {
        name: [h.patient.usedFamily ?? h.patient.birthFamily, h.patient.usedGiven ?? h.patient.firstGiven ?? h.patient.birthGivens].filter(Boolean).join(' ') || '—',
        gender: h.patient.gender ?? null,
        birthDate: h.patient.birthDate ?? null,
        ins: h.patient.ins?.value ?? null,
      },
      serviceStart: svc?.start ?? null,
      serviceStop: svc?.stop ?? null,
      level: parsed.level,
      versionNumber: h.versionNumber ?? null,
    },
    html: parsed.body.kind === 'narrative' ? parsed.body.html : renderNarrativeHtml(parsed),
    pdf: pdfBytes ? { name: safeName(h.title), size: pdfBytes.length, base64: tooLarge ? null : pdfBytes.toString('base64'), tooLarge } : null,
  };
}

export interface VersionAuthor {
  nameId: string;
  /** "Given FAMILY" as in the profile. */
  name: string;
  professionCode: string;
  specialtyCode?: string;
  structureId: string;
  structureName: string;
}

const MAX_PDF_BYTES = 20 * 1024 * 1024;

/**
 * The new version of a retrieved CDA with a new PDF body: same setId, versionNumber + 1, relatedDocument RPLC →
 * the previous id (documents' `buildNewVersion`); the patient and the document's classification are taken from the
 * previous version, the author is the current user (only an author may replace a document in the DMP).
 */
export function newVersionCda(previousCda: Buffer, pdf: Buffer, author: VersionAuthor, opts: { title?: string; now?: Date } = {}): { bytes: Buffer; uniqueId: string; versionNumber: number; ins: string } {
  if (pdf.length < 8 || pdf.subarray(0, 5).toString('latin1') !== '%PDF-') {
    throw new AppError('DMP_PDF_INVALID', "Le fichier choisi n'est pas un PDF.", 'missing %PDF- header');
  }
  if (pdf.length > MAX_PDF_BYTES) throw new AppError('FILE_TOO_LARGE', 'Le PDF est trop volumineux pour le DMP (20 Mo au plus).', `${pdf.length} bytes`);
  let prev: ParsedCda;
  try {
    prev = parseCda(previousCda);
  } catch (err) {
    const e = err as AppError;
    throw new AppError('DMP_NOT_CDA', "Ce document n'est pas un CDA : on ne peut pas en créer une nouvelle version.", `${e.code ?? 'ERROR'}: ${e.detail ?? e.message}`);
  }
  const h = prev.header;
  const p = h.patient;
  if (!p.ins) throw new AppError('DMP_CDA_INCOMPLETE', "Le document à remplacer n'indique pas l'INS du patient.", 'previous CDA has no INS');
  const [given, ...family] = author.name.trim().split(/\s+/);
  const serviceStart = h.serviceEvents[0]?.start ?? h.effectiveTime ?? (opts.now ?? new Date()).toISOString();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lps-dmp-version-'));
  try {
    const pdfFile = path.join(dir, 'document.pdf');
    fs.writeFileSync(pdfFile, pdf, { mode: 0o600 });
    const built = buildNewVersion(
      prev,
      {
        patient: {
          ins: p.ins.value,
          insOid: p.ins.oid,
          insQualified: true,
          birthFamily: p.birthFamily ?? p.usedFamily ?? 'INCONNU',
          birthGiven: p.birthGivens ?? p.firstGiven ?? 'INCONNU',
          firstGiven: p.firstGiven ?? p.birthGivens?.split(' ')[0] ?? 'INCONNU',
          ...(p.usedFamily ? { usedFamily: p.usedFamily } : {}),
          ...(p.usedGiven ? { usedGiven: p.usedGiven } : {}),
          gender: p.gender === 'M' || p.gender === 'F' ? p.gender : 'U',
          birthDate: /^\d{4}-\d{2}-\d{2}$/.test(p.birthDate ?? '') ? p.birthDate! : '1900-01-01',
          ...(p.birthPlace && /^[0-9][0-9AB][0-9]{3}$/.test(p.birthPlace) ? { birthPlace: p.birthPlace } : {}),
        },
        author: {
          idNat: author.nameId,
          family: family.join(' ') || given || 'INCONNU',
          given: family.length ? given! : '-',
          profession: author.professionCode,
          ...(author.specialtyCode ? { specialty: author.specialtyCode } : {}),
          organization: { id: author.structureId, name: author.structureName },
        },
        document: {
          typeCode: h.typeCode.code,
          typeCodeSystem: h.typeCode.codeSystem,
          title: opts.title ?? h.title,
          pdf: pdfFile,
          serviceStart,
          ...(h.serviceEvents[0]?.stop ? { serviceStop: h.serviceEvents[0].stop } : {}),
          facilityType: h.facilityType?.code ?? 'SA07',
          practiceSetting: h.practiceSetting?.code ?? 'AMBULATOIRE',
          confidentiality: h.confidentiality && ['N', 'R', 'V'].includes(h.confidentiality.code) ? (h.confidentiality.code as 'N' | 'R' | 'V') : 'N',
        },
      },
      { baseDir: dir, ...(opts.now ? { now: opts.now } : {}) },
    );
    const id = built.parsed.header.id;
    return { bytes: built.bytes, uniqueId: id.extension ? `${id.root}^${id.extension}` : id.root, versionNumber: built.parsed.header.versionNumber ?? 2, ins: p.ins.value };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
