import type { AuditTrail } from '../audit/audit-trail';
import type { CdaHeader } from '../documents/types';
import type { PatientRepository } from '../patients/repository';
import type { Db } from '../store/database';
import type { SecureBlobStore } from '../store/secure-blobs';
import type { MailAccountConfig } from './accounts';
import type { DocumentsPort } from './documents-port';
import { buildMdn } from './mdn';
import type { ReportStatus } from './report-parse';
import type { PreparedDoc } from './message-read';
import type { Outbox } from './outbox';
import { MDN_ERRORS, type MdnErrorCode } from './wire-profile';

/**
 * TM3.1C reception of one message: recognise a document mail, open its XDM (hostile-input safe), classify
 * each document (initial / replacement / metadata update / deletion), match the patient on an exact
 * qualified INS, integrate or queue for manual import, answer with an MDN when asked — all the effects of
 * one message written in ONE SQLite transaction together with its journal row (exactly once).
 */
export type DocumentStatus = 'integrated' | 'queued' | 'rejected' | 'replaced' | 'deleted';
export type Classification = 'initial' | 'replacement' | 'metadata-update' | 'deletion';

export interface DocumentOutcome {
  documentId: string;
  title?: string;
  typeCode?: string;
  classification: Classification;
  /** What happened to this document: integrated in a record, queued for manual import, rejected. */
  result: 'integrated' | 'queued' | 'rejected' | 'deleted' | 'duplicate';
  code?: MdnErrorCode;
  detail?: string;
  patientId?: number;
  rowId?: number;
  replacesRowId?: number;
}

export interface MessageOutcome {
  uid: number;
  messageId: string | null;
  from: string | null;
  subject: string | null;
  kind: 'document' | 'report' | 'other' | 'duplicate' | 'already-processed' | 'rejected';
  documents: DocumentOutcome[];
  error?: { code: MdnErrorCode; detail: string };
  report?: ReportStatus & { matchedOutboxId?: string };
  mdn?: { outboxId: string; disposition: 'processed' | 'error'; code?: MdnErrorCode };
}

/** A received message as the commit needs it (what `readMail` found in it, plus where it is). */
export interface ReceivedMessage {
  account: MailAccountConfig;
  mailbox: string;
  uidValidity: string;
  uid: number;
  size: number;
  /** Whole message (absent when too large to be downloaded: then only the headers were read). */
  raw?: Buffer;
  headerText: string;
  dnt: string | null;
  autoSubmitted: string;
}

export interface ReceptionDeps {
  db: Db;
  blobs: SecureBlobStore;
  audit: AuditTrail;
  patients: PatientRepository;
  outbox: Outbox;
  documents: () => DocumentsPort;
  nil: () => string;
}

/** A message read and checked, not yet committed. */
export interface ReadMessage {
  msg: ReceivedMessage;
  outcome: MessageOutcome;
  prepared?: PreparedDoc[];
}

interface HeldRow {
  id: number;
  status: DocumentStatus;
  version: number | null;
  author_id: string | null;
  author_org: string | null;
  patient_id: number | null;
  patient_ins: string | null;
  patient_ins_oid: string | null;
  body_hash: string | null;
}

export function idKey(id: { root: string; extension?: string }): string {
  return id.extension ? `${id.root}^${id.extension}` : id.root;
}

function norm(s: string | undefined | null): string {
  return (s ?? '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, ' ')
    .trim();
}


export class Reception {
  constructor(private readonly deps: ReceptionDeps) {}

  /** Has this message already been processed (journal), here or — by Message-ID — under another UID? */
  journalState(account: string, mailbox: string, uidValidity: string, uid: number): boolean {
    return !!this.deps.db.prepare('SELECT 1 FROM mss_journal WHERE account = ? AND mailbox = ? AND uidvalidity = ? AND uid = ?').get(account, mailbox, uidValidity, uid);
  }

  /** Records a message that carries our processed keyword but is unknown to this journal (other install). */
  recordAlreadyProcessed(account: string, mailbox: string, uidValidity: string, uid: number): MessageOutcome {
    this.deps.db
      .prepare(`INSERT OR IGNORE INTO mss_journal (account, mailbox, uidvalidity, uid, kind, outcome, processed_at) VALUES (?, ?, ?, ?, 'already-processed', 'skipped', ?)`)
      .run(account, mailbox, uidValidity, uid, new Date().toISOString());
    return { uid, messageId: null, from: null, subject: null, kind: 'already-processed', documents: [] };
  }


  /**
   * Commits read messages in order, all in ONE transaction (one durable write for a whole fetched batch):
   * their journal rows, documents, audit entries and MDNs land together or not at all.
   */
  commitAll(read: ReadMessage[]): MessageOutcome[] {
    // One transaction; the audit chain's head is read and written once for the whole batch.
    return this.deps.audit.batch(() =>
      read.map(({ msg, outcome, prepared }) => {
        // Same Message-ID already processed under another UID (resend after an uncertain crash, UIDVALIDITY
        // change) — also earlier in this very batch.
        if (outcome.messageId) {
          const seen = this.deps.db
            .prepare(`SELECT kind FROM mss_journal WHERE account = ? AND message_id = ? AND kind IN ('document', 'report', 'rejected', 'other') LIMIT 1`)
            .get(msg.account.address, outcome.messageId) as { kind: string } | undefined;
          if (seen) return this.commit(msg, { uid: outcome.uid, messageId: outcome.messageId, from: outcome.from, subject: outcome.subject, kind: 'duplicate', documents: [] });
        }
        return this.commit(msg, outcome, prepared);
      }),
    );
  }

  /** Decides and writes everything for one message, its journal row and its MDN (inside `commitAll`'s transaction). */
  private commit(msg: ReceivedMessage, outcome: MessageOutcome, prepared: PreparedDoc[] = []): MessageOutcome {
    const { db, audit } = this.deps;
    const account = msg.account.address;
    const now = new Date().toISOString();
    const { dnt, autoSubmitted } = msg;
    for (const d of prepared) outcome.documents.push(this.decide(d, msg, outcome, now));
    if (outcome.kind === 'report' && outcome.report) {
      const item = this.deps.outbox.applyReport(outcome.report);
      if (item) outcome.report.matchedOutboxId = item.id;
      audit.append({
        actor: account,
        action: `mssante.receive.${outcome.report.type}`,
        subject: outcome.report.originalMessageId ?? outcome.messageId,
        outcome: 'info',
        details: { state: outcome.report.state, code: outcome.report.type === 'mdn' ? outcome.report.code : outcome.report.status, outboxId: item?.id ?? null },
      });
    }
    // MDN: only when asked, never for a report or an automatic message (no loops), once per message.
    const wantsMdn = !!dnt && (outcome.kind === 'document' || outcome.kind === 'rejected') && autoSubmitted === 'no';
    if (wantsMdn) {
      const failed = outcome.error ?? outcome.documents.find((d) => d.code)?.code;
      const code: MdnErrorCode | undefined = outcome.error?.code ?? outcome.documents.find((d) => d.code)?.code;
      const detail = outcome.error?.detail ?? outcome.documents.find((d) => d.code)?.detail;
      const mdn = buildMdn({
        reporter: account,
        to: dnt!,
        originalMessageId: outcome.messageId ?? '<inconnu>',
        originalSubject: outcome.subject ?? '',
        originalRecipient: account,
        outcome: failed && code ? { kind: 'error', code, detail: detail?.slice(0, 200) } : { kind: 'processed' },
        original: msg.raw && msg.raw.length <= 20 * 1024 * 1024 ? msg.raw : undefined,
        originalHeaders: msg.headerText,
        nil: this.deps.nil(),
      });
      const item = this.deps.outbox.enqueue({
        account,
        kind: 'mdn',
        built: { raw: mdn.raw, messageId: mdn.messageId, subject: mdn.subject, recipients: [dnt!], headers: {}, documents: [] },
        meta: { inReplyTo: outcome.messageId, code: code ?? null },
      });
      outcome.mdn = { outboxId: item.id, disposition: code ? 'error' : 'processed', ...(code ? { code } : {}) };
    }
    const resultOf = outcome.error ? 'rejected' : outcome.documents.some((d) => d.result === 'rejected' || d.result === 'queued') ? 'partial' : 'ok';
    db.prepare(
      `INSERT INTO mss_journal (account, mailbox, uidvalidity, uid, message_id, kind, outcome, detail, sender, subject, mdn_requested_to, processed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      account,
      msg.mailbox,
      msg.uidValidity,
      msg.uid,
      outcome.messageId,
      outcome.kind,
      resultOf,
      JSON.stringify({ documents: outcome.documents, error: outcome.error ?? null, mdn: outcome.mdn ?? null }),
      outcome.from,
      outcome.subject,
      dnt,
      now,
    );
    audit.append({
      actor: account,
      action: `mssante.receive.message`,
      subject: outcome.messageId,
      outcome: outcome.error ? 'failure' : 'success',
      details: {
        kind: outcome.kind,
        from: outcome.from,
        uid: msg.uid,
        // Not under a key named "documents": the redaction masks those (document bodies); these are ids and results.
        results: outcome.documents.map((d) => ({ id: d.documentId, classification: d.classification, result: d.result, code: d.code ?? null })),
        error: outcome.error ?? null,
        mdnRequested: !!dnt,
      },
    });
    return outcome;
  }

  private decide(d: PreparedDoc, msg: ReceivedMessage, outcome: MessageOutcome, now: string): DocumentOutcome {
    const { db, audit } = this.deps;
    const account = msg.account.address;
    const action = (d.action ?? '').toUpperCase();
    if (d.problem || !d.cda) {
      const res: DocumentOutcome = { documentId: d.uniqueId, classification: action === 'D' ? 'deletion' : action === 'C' ? 'replacement' : 'initial', result: 'rejected', code: d.problem?.code ?? '906', detail: d.problem?.detail };
      audit.append({ actor: account, action: 'mssante.document.rejected', subject: d.uniqueId, outcome: 'failure', details: { messageId: outcome.messageId, code: res.code, detail: res.detail } });
      return res;
    }
    const h = d.cda.header;
    const docId = idKey(h.id);
    const rplc = h.relatedDocuments.find((r) => r.typeCode.toUpperCase() === 'RPLC');
    const classification: Classification = action === 'D' ? 'deletion' : action === 'C' || rplc ? 'replacement' : 'initial';
    const base = { documentId: docId, title: h.title, typeCode: h.typeCode.code };
    const log = (res: DocumentOutcome) => {
      audit.append({
        actor: account,
        action: `mssante.document.${res.result}`,
        subject: docId,
        outcome: res.result === 'rejected' || res.code ? 'failure' : 'success',
        details: { messageId: outcome.messageId, classification: res.classification, code: res.code ?? null, patientId: res.patientId ?? null, replaces: res.replacesRowId ?? null, typeCode: h.typeCode.code },
      });
      return res;
    };
    const held = (ids: { root: string; extension?: string }[]) => {
      for (const id of ids) {
        const r = db.prepare(`SELECT id, status, version, author_id, author_org, patient_id, patient_ins, patient_ins_oid, body_hash FROM mss_documents WHERE doc_root = ? AND doc_ext = ? AND status != 'rejected' ORDER BY id DESC LIMIT 1`).get(id.root, id.extension ?? '') as HeldRow | undefined;
        if (r) return r;
      }
      return undefined;
    };
    const sameAuthor = (r: HeldRow) => {
      const a = h.authors[0];
      const aid = a?.id ? idKey(a.id) : null;
      const org = a?.organization?.id ? idKey(a.organization.id) : null;
      return (!!aid && aid === r.author_id) || (!!org && org === r.author_org);
    };

    if (classification === 'deletion') {
      const target = held([h.id]);
      if (!target) return log({ ...base, classification, result: 'rejected', code: '906', detail: 'document to delete is unknown' });
      if (target.status === 'replaced' || target.status === 'deleted') return log({ ...base, classification, result: 'rejected', code: '900', detail: `document is ${target.status}` });
      if (!sameAuthor(target)) return log({ ...base, classification, result: 'rejected', code: '901', detail: 'sender is not the author' });
      db.prepare(`UPDATE mss_documents SET status = 'deleted', deleted_at = ? WHERE id = ?`).run(now, target.id);
      return log({ ...base, classification, result: 'deleted', rowId: target.id, patientId: target.patient_id ?? undefined });
    }

    if (classification === 'replacement') {
      const parentIds = rplc?.parentIds.length ? rplc.parentIds : [];
      let parent = parentIds.length ? held(parentIds) : undefined;
      if (!parent && h.setId) {
        parent = db.prepare(`SELECT id, status, version, author_id, author_org, patient_id, patient_ins, patient_ins_oid, body_hash FROM mss_documents WHERE set_root = ? AND set_ext = ? AND status IN ('integrated', 'queued') ORDER BY id DESC LIMIT 1`).get(h.setId.root, h.setId.extension ?? '') as HeldRow | undefined;
      }
      if (parent) {
        if (parent.status === 'replaced' || parent.status === 'deleted') return log({ ...base, classification, result: 'rejected', code: '900', detail: `replaced document is ${parent.status}` });
        if (parent.version != null && h.versionNumber != null && h.versionNumber <= parent.version) {
          return log({ ...base, classification, result: 'rejected', code: '900', detail: `version ${h.versionNumber} <= held version ${parent.version}` });
        }
        if (!sameAuthor(parent)) return log({ ...base, classification, result: 'rejected', code: '901', detail: 'sender is not the author' });
        if (parent.patient_ins && (h.patient.ins?.value !== parent.patient_ins || h.patient.ins?.oid !== parent.patient_ins_oid)) {
          return log({ ...base, classification, result: 'rejected', code: '904', detail: 'INS differs from the replaced document' });
        }
        const kind: Classification = parent.body_hash && parent.body_hash === d.cda.bodyHash ? 'metadata-update' : 'replacement';
        const status: DocumentStatus = parent.status === 'integrated' ? 'integrated' : 'queued';
        const rowId = this.insertDoc(d, msg, outcome, kind, status, parent.patient_id, null, now, parent.id);
        db.prepare(`UPDATE mss_documents SET status = 'replaced', replaced_by_id = ? WHERE id = ?`).run(rowId, parent.id);
        return log({ ...base, classification: kind, result: status === 'integrated' ? 'integrated' : 'queued', rowId, replacesRowId: parent.id, patientId: parent.patient_id ?? undefined });
      }
      // Nothing held to replace: handled as an initial transmission of this version.
    }

    const existing = held([h.id]);
    if (existing) return log({ ...base, classification: 'initial', result: 'duplicate', rowId: existing.id, patientId: existing.patient_id ?? undefined });
    const match = this.matchPatient(h);
    const rowId = this.insertDoc(d, msg, outcome, 'initial', match.patientId ? 'integrated' : 'queued', match.patientId ?? null, match.code ?? null, now, null);
    return log({ ...base, classification: 'initial', result: match.patientId ? 'integrated' : 'queued', rowId, ...(match.patientId ? { patientId: match.patientId } : { code: match.code, detail: match.detail }) });
  }

  /** Automatic integration only on an exact qualified INS that matches a known patient with the same strict traits. */
  matchPatient(h: CdaHeader): { patientId?: number; code?: MdnErrorCode; detail?: string } {
    const p = h.patient;
    const ins = p.ins;
    if (!ins) return { code: '903', detail: 'no INS in the document' };
    if (!/^([0-9]{15}|[12][0-9]{4}2[AB][0-9]{8})$/.test(ins.value) || !p.birthFamily || !p.birthDate || !p.gender || !(p.firstGiven ?? p.birthGivens)) {
      return { code: '905', detail: 'INS or strict traits incomplete' };
    }
    const local = this.deps.patients.findByIns(ins.value, ins.oid);
    // A local id (IPP) that designates a patient with another INS is an identity conflict.
    for (const lid of p.localIds) {
      if (!lid.extension) continue;
      const byIpp = this.deps.patients.findByIpp(lid.extension, lid.root);
      if (byIpp && byIpp.ins && (byIpp.ins !== ins.value || byIpp.insOid !== ins.oid)) return { code: '904', detail: 'the IPP designates a patient with another INS' };
    }
    if (!local) return { code: '902', detail: 'no local patient with this INS' };
    if (!local.insQualified) return { code: '906', detail: 'the local identity is not qualified: manual import' };
    const first = norm(p.firstGiven ?? p.birthGivens?.split(' ')[0]);
    const traitsOk =
      norm(local.birthFamily) === norm(p.birthFamily) &&
      local.birthDate === p.birthDate &&
      local.gender === p.gender &&
      norm(local.firstGiven) === first &&
      (!p.birthPlace || !local.birthPlace || local.birthPlace === p.birthPlace);
    if (!traitsOk) return { code: '904', detail: 'strict traits differ from the local qualified identity' };
    return { patientId: local.id };
  }

  private insertDoc(d: PreparedDoc, msg: ReceivedMessage, outcome: MessageOutcome, classification: Classification, status: DocumentStatus, patientId: number | null, code: string | null, now: string, replaces: number | null): number {
    const h = d.cda!.header;
    const a = h.authors[0];
    const r = this.deps.db
      .prepare(
        `INSERT INTO mss_documents (account, message_id, doc_root, doc_ext, set_root, set_ext, version, type_code, type_label, title, effective_time,
           author_id, author_org, author_name, patient_ins, patient_ins_oid, patient_name, patient_birth_date, patient_id, classification, status,
           error_code, replaces_id, cda_blob, pdf_blob, body_hash, pdf_name, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        msg.account.address,
        outcome.messageId,
        h.id.root,
        h.id.extension ?? '',
        h.setId?.root ?? null,
        h.setId?.extension ?? '',
        h.versionNumber ?? null,
        h.typeCode.code,
        h.typeCode.displayName ?? null,
        h.title,
        h.effectiveTime ?? null,
        a?.id ? idKey(a.id) : null,
        a?.organization?.id ? idKey(a.organization.id) : null,
        [a?.prefix, a?.given, a?.family].filter(Boolean).join(' ') || null,
        h.patient.ins?.value ?? null,
        h.patient.ins?.oid ?? null,
        [h.patient.birthFamily, h.patient.firstGiven].filter(Boolean).join(' ') || null,
        h.patient.birthDate ?? null,
        patientId,
        classification,
        status,
        code,
        replaces,
        this.deps.blobs.put(d.cda!.bytes),
        d.pdf ? this.deps.blobs.put(d.pdf.data) : null,
        d.cda!.bodyHash,
        d.pdf?.name ?? null,
        now,
      );
    return Number(r.lastInsertRowid);
  }
}

export const MDN_ERROR_LABELS = MDN_ERRORS;
