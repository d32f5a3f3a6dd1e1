import type { InboxDocument, InboxDocumentStatus, InboxDocumentView, InboxErrorCode, InboxMessage, InboxSentMessage } from '../../shared/api/inbox';
import { INBOX_PDF_CAP_BYTES } from '../../shared/api/inbox';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { parseCda, renderNarrativeHtml } from '../documents';
import type { ParsedCda } from '../documents/types';
import type { OutboxItem } from './outbox';
import { MDN_ERRORS } from './wire-profile';

/**
 * Read models of the Messagerie screens: the journal of processed messages joined with the received
 * documents (current status, not the status at reception time), one document for display, its versions,
 * the sent messages with their acknowledgements. Read-only, except the "viewed" audit line.
 */

export function errorOf(code: string | null | undefined): InboxErrorCode | null {
  if (!code) return null;
  const label = (MDN_ERRORS as Record<string, string>)[code];
  return { code, label: label ?? 'Erreur non répertoriée' };
}

interface DocRow {
  id: number;
  account: string;
  message_id: string | null;
  doc_root: string;
  doc_ext: string;
  version: number | null;
  type_code: string | null;
  type_label: string | null;
  title: string | null;
  effective_time: string | null;
  author_name: string | null;
  patient_ins: string | null;
  patient_name: string | null;
  patient_birth_date: string | null;
  patient_id: number | null;
  classification: InboxDocument['classification'];
  status: Exclude<InboxDocumentStatus, 'duplicate'>;
  error_code: string | null;
  replaces_id: number | null;
  replaced_by_id: number | null;
  deleted_at: string | null;
  cda_blob: string | null;
  pdf_blob: string | null;
  pdf_name: string | null;
  received_at: string;
  p_id: number | null;
  p_family: string | null;
  p_used_family: string | null;
  p_given: string | null;
  p_used_given: string | null;
  p_ins: string | null;
}

const DOC_SELECT = `SELECT d.*, p.id AS p_id, p.birth_family AS p_family, p.used_family AS p_used_family, p.first_given AS p_given,
  p.used_given AS p_used_given, p.ins AS p_ins FROM mss_documents d LEFT JOIN patients p ON p.id = d.patient_id`;

function docRow(core: Core, id: number): DocRow | undefined {
  return core.db.prepare(`${DOC_SELECT} WHERE d.id = ?`).get(id) as DocRow | undefined;
}

function docIdOf(r: { doc_root: string; doc_ext: string }): string {
  return r.doc_ext ? `${r.doc_root}^${r.doc_ext}` : r.doc_root;
}

function toInboxDocument(r: DocRow, override?: { status?: InboxDocumentStatus; classification?: InboxDocument['classification'] }): InboxDocument {
  return {
    id: r.id,
    documentId: docIdOf(r),
    title: r.title,
    typeCode: r.type_code,
    typeLabel: r.type_label,
    classification: override?.classification ?? r.classification,
    status: override?.status ?? r.status,
    error: r.status === 'queued' || r.status === 'rejected' ? errorOf(r.error_code) : null,
    detail: null,
    effectiveTime: r.effective_time,
    authorName: r.author_name,
    patientName: r.patient_name,
    patientIns: r.patient_ins,
    patientBirthDate: r.patient_birth_date,
    patient: r.p_id != null ? { id: r.p_id, name: `${r.p_used_family || r.p_family} ${r.p_used_given || r.p_given}`, ins: r.p_ins } : null,
    version: r.version,
    replacesId: r.replaces_id,
    replacedById: r.replaced_by_id,
    deletedAt: r.deleted_at,
    hasPdf: !!r.pdf_blob,
  };
}

interface JournalRow {
  account: string;
  mailbox: string;
  uidvalidity: string;
  uid: number;
  message_id: string | null;
  kind: string;
  detail: string;
  sender: string | null;
  subject: string | null;
  mdn_requested_to: string | null;
  mdn_manual_sent: number;
  processed_at: string;
}

interface JournalDetail {
  documents?: { documentId: string; title?: string; typeCode?: string; classification: InboxDocument['classification']; result: string; code?: string; detail?: string; rowId?: number }[];
  error?: { code: string; detail: string } | null;
  mdn?: { disposition: 'processed' | 'error'; code?: string } | null;
}

export function listInboxMessages(core: Core, f: { account?: string; status?: InboxDocumentStatus; limit: number }): InboxMessage[] {
  const rows = core.db
    .prepare(
      `SELECT account, mailbox, uidvalidity, uid, message_id, kind, detail, sender, subject, mdn_requested_to, mdn_manual_sent, processed_at
       FROM mss_journal WHERE kind IN ('document', 'rejected', 'other') ${f.account ? 'AND account = @account' : ''}
       ORDER BY processed_at DESC, uid DESC LIMIT @limit`,
    )
    .all({ account: f.account?.toLowerCase(), limit: f.status ? Math.min(5000, f.limit * 10) : f.limit }) as JournalRow[];
  const out: InboxMessage[] = [];
  for (const j of rows) {
    let detail: JournalDetail = {};
    try {
      detail = JSON.parse(j.detail) as JournalDetail;
    } catch {
      /* an unreadable detail shows as a message without documents */
    }
    const documents = (detail.documents ?? []).map((d): InboxDocument => {
      const row = d.rowId != null ? docRow(core, d.rowId) : undefined;
      if (row) {
        if (d.result === 'duplicate') return toInboxDocument(row, { status: 'duplicate', classification: 'initial' });
        if (d.classification === 'deletion') return toInboxDocument(row, { status: 'deleted', classification: 'deletion' });
        return toInboxDocument(row);
      }
      return {
        id: null,
        documentId: d.documentId,
        title: d.title ?? null,
        typeCode: d.typeCode ?? null,
        typeLabel: null,
        classification: d.classification,
        status: d.result === 'rejected' ? 'rejected' : d.result === 'duplicate' ? 'duplicate' : d.result === 'deleted' ? 'deleted' : 'rejected',
        error: errorOf(d.code),
        detail: d.detail ?? null,
        effectiveTime: null,
        authorName: null,
        patientName: null,
        patientIns: null,
        patientBirthDate: null,
        patient: null,
        version: null,
        replacesId: null,
        replacedById: null,
        deletedAt: null,
        hasPdf: false,
      };
    });
    if (f.status && !documents.some((d) => d.status === f.status)) continue;
    out.push({
      key: `${j.account}/${j.mailbox}/${j.uidvalidity}/${j.uid}`,
      account: j.account,
      messageId: j.message_id,
      from: j.sender,
      subject: j.subject,
      receivedAt: j.processed_at,
      kind: j.kind === 'document' ? 'document' : j.kind === 'rejected' ? 'rejected' : 'other',
      error: errorOf(detail.error?.code),
      errorDetail: detail.error?.detail ?? null,
      documents,
      mdnRequested: !!j.mdn_requested_to,
      mdnAuto: detail.mdn ? { disposition: detail.mdn.disposition, code: detail.mdn.code ?? null } : null,
      readMdnSent: j.mdn_manual_sent === 1,
    });
    if (out.length >= f.limit) break;
  }
  return out;
}

/** The replacement chain of a document, newest first. */
export function documentVersions(core: Core, id: number): InboxDocumentView['versions'] {
  const start = core.db.prepare('SELECT id FROM mss_documents WHERE id = ?').get(id) as { id: number } | undefined;
  if (!start) throw new AppError('MSS_DOCUMENT_UNKNOWN', "Ce document reçu n'existe pas.", String(id));
  type V = { id: number; version: number | null; status: Exclude<InboxDocumentStatus, 'duplicate'>; received_at: string; title: string | null; replaces_id: number | null; replaced_by_id: number | null };
  const get = (x: number) => core.db.prepare('SELECT id, version, status, received_at, title, replaces_id, replaced_by_id FROM mss_documents WHERE id = ?').get(x) as V | undefined;
  const seen = new Set<number>();
  // Newest first: climb to the newest version, then walk down the chain.
  let top = get(id)!;
  while (top.replaced_by_id != null && !seen.has(top.replaced_by_id) && seen.size < 500) {
    seen.add(top.id);
    const n = get(top.replaced_by_id);
    if (!n) break;
    top = n;
  }
  const out: InboxDocumentView['versions'] = [];
  seen.clear();
  let cur: V | undefined = top;
  while (cur && !seen.has(cur.id) && out.length < 500) {
    seen.add(cur.id);
    out.push({ id: cur.id, version: cur.version, status: cur.status, receivedAt: cur.received_at, title: cur.title, current: cur.id === id });
    cur = cur.replaces_id != null ? get(cur.replaces_id) : undefined;
  }
  return out;
}

function personName(p: { prefix?: string; given?: string; family?: string } | undefined): string {
  return [p?.prefix, p?.given, p?.family].filter(Boolean).join(' ') || 'Auteur non précisé';
}

const CONFIDENTIALITY: Record<string, string> = { N: 'Normal', R: 'Restreint', V: 'Très restreint' };

export function getInboxDocument(core: Core, id: number, actor = 'utilisateur'): InboxDocumentView {
  const row = docRow(core, id);
  if (!row) throw new AppError('MSS_DOCUMENT_UNKNOWN', "Ce document reçu n'existe pas.", String(id));
  if (!row.cda_blob) throw new AppError('MSS_DOCUMENT_NO_BODY', "Le contenu de ce document n'est pas conservé.", String(id));
  let parsed: ParsedCda;
  try {
    parsed = parseCda(core.blobs.get(row.cda_blob));
  } catch (err) {
    throw new AppError('MSS_DOCUMENT_UNREADABLE', "Le contenu de ce document n'a pas pu être relu.", err instanceof AppError ? `${err.code}: ${err.detail ?? ''}` : (err as Error).message);
  }
  const h = parsed.header;
  const html = parsed.body.kind === 'narrative' ? parsed.body.html : renderNarrativeHtml(parsed);
  let pdf: InboxDocumentView['pdf'] = null;
  // A level-1 CDA whose body IS a PDF: that original is the document; else the companion PDF of the message.
  const embedded = parsed.body.kind === 'pdf' ? parsed.body.pdf : undefined;
  const pdfBytes = embedded ?? (row.pdf_blob ? core.blobs.get(row.pdf_blob) : undefined);
  if (pdfBytes) {
    const tooLarge = pdfBytes.length > INBOX_PDF_CAP_BYTES;
    pdf = {
      name: !embedded && row.pdf_name ? row.pdf_name : `${(h.title || 'document').replace(/[^\p{L}\p{N} ._-]+/gu, '_').slice(0, 80)}.pdf`,
      size: pdfBytes.length,
      base64: tooLarge ? null : pdfBytes.toString('base64'),
      tooLarge,
      source: embedded ? 'embedded' : 'attachment',
    };
  }
  const svc = h.serviceEvents[0];
  core.audit.append({ actor, action: 'mssante.document.viewed', subject: docIdOf(row), outcome: 'info', details: { rowId: id, account: row.account } });
  return {
    document: toInboxDocument(row),
    account: row.account,
    messageId: row.message_id,
    header: {
      title: h.title,
      typeCode: h.typeCode.code,
      typeLabel: h.typeCode.displayName ?? row.type_label ?? null,
      effectiveTime: h.effectiveTime ?? null,
      confidentiality: h.confidentiality ? (CONFIDENTIALITY[h.confidentiality.code] ?? h.confidentiality.displayName ?? h.confidentiality.code) : null,
      authors: h.authors.map((a) => ({ name: personName(a), organization: a.organization?.name ?? null, time: a.time ?? null })),
      custodian: h.custodian?.name ?? null,
      patient: {
        birthFamily: h.patient.birthFamily ?? null,
        usedFamily: h.patient.usedFamily ?? null,
        givens: h.patient.birthGivens ?? h.patient.firstGiven ?? null,
        gender: h.patient.gender ?? null,
        birthDate: h.patient.birthDate ?? null,
        birthPlace: h.patient.birthPlace ?? null,
        ins: h.patient.ins?.value ?? null,
        insOid: h.patient.ins?.oid ?? null,
      },
      serviceStart: svc?.start ?? null,
      serviceStop: svc?.stop ?? null,
      level: parsed.level,
    },
    html,
    pdf,
    versions: documentVersions(core, id),
  };
}

function ackError(item: OutboxItem): InboxErrorCode | null {
  if (item.integrationStatus === 'failed') return errorOf(item.ackCode ?? '906');
  return null;
}

export function listSentMessages(core: Core, items: OutboxItem[]): InboxSentMessage[] {
  void core;
  return items.map((i) => {
    const meta = i.meta as { documents?: { id: string; title?: string }[]; patient?: { name?: string } | null; ack?: { delivery?: boolean; read?: boolean } };
    return {
      id: i.id,
      account: i.account,
      messageId: i.messageId,
      recipients: i.recipients,
      subject: i.subject,
      status: i.status,
      lastError: i.lastError,
      createdAt: i.createdAt,
      sentAt: i.sentAt,
      documents: (meta.documents ?? []).map((d) => ({ id: d.id, title: d.title ?? null })),
      patientName: meta.patient?.name ?? null,
      requested: { delivery: !!(meta.ack?.delivery ?? i.dsn), read: !!meta.ack?.read },
      delivery: i.deliveryStatus,
      read: i.readStatus,
      integration: i.integrationStatus,
      error: ackError(i),
      ackAt: i.ackAt,
    };
  });
}
