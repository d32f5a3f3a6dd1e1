import { z } from 'zod';
import type { MethodDef } from './types';

/**
 * Read models of the Messagerie screens, on top of the MSSanté capability: received messages with their
 * documents and integration status, one document (header, safe narrative HTML, PDF), its versions, the
 * sent messages with their acknowledgements, and a manual "sync now" that reports progress.
 * Actions already served by `mssante.*` (manual import `mssante.documents.attach`, read MDN
 * `mssante.mdn.read`, accounts `mssante.accounts.list`) are reused as they are.
 */

/** Status of one received document as the user sees it. `duplicate`: already held, nothing changed. */
export const InboxDocumentStatus = z.enum(['integrated', 'queued', 'replaced', 'deleted', 'rejected', 'duplicate']);
export type InboxDocumentStatus = z.infer<typeof InboxDocumentStatus>;

export const InboxErrorCode = z.object({
  code: z.string(),
  /** French meaning of the PFI code (900–906). */
  label: z.string(),
});
export type InboxErrorCode = z.infer<typeof InboxErrorCode>;

export const InboxDocument = z.object({
  /** Row of the received document (absent for a document rejected before it could be read). */
  id: z.number().int().nullable(),
  documentId: z.string(),
  title: z.string().nullable(),
  typeCode: z.string().nullable(),
  typeLabel: z.string().nullable(),
  classification: z.enum(['initial', 'replacement', 'metadata-update', 'deletion']),
  status: InboxDocumentStatus,
  error: InboxErrorCode.nullable(),
  /** Free technical detail of a rejection (never a document body). */
  detail: z.string().nullable(),
  effectiveTime: z.string().nullable(),
  authorName: z.string().nullable(),
  /** Patient as the document names it. */
  patientName: z.string().nullable(),
  patientIns: z.string().nullable(),
  patientBirthDate: z.string().nullable(),
  /** Local patient it is integrated in. */
  patient: z.object({ id: z.number().int(), name: z.string(), ins: z.string().nullable() }).nullable(),
  version: z.number().int().nullable(),
  replacesId: z.number().int().nullable(),
  replacedById: z.number().int().nullable(),
  deletedAt: z.string().nullable(),
  hasPdf: z.boolean(),
});
export type InboxDocument = z.infer<typeof InboxDocument>;

export const InboxMessage = z.object({
  /** Stable key: account + mailbox + UIDVALIDITY + UID. */
  key: z.string(),
  account: z.string(),
  messageId: z.string().nullable(),
  from: z.string().nullable(),
  subject: z.string().nullable(),
  receivedAt: z.string(),
  kind: z.enum(['document', 'rejected', 'other']),
  /** A rejection of the whole message (code 906…). */
  error: InboxErrorCode.nullable(),
  errorDetail: z.string().nullable(),
  documents: z.array(InboxDocument),
  /** The sender asked for a notification (Disposition-Notification-To). */
  mdnRequested: z.boolean(),
  /** Automatic MDN (processed / error) sent for this message. */
  mdnAuto: z.object({ disposition: z.enum(['processed', 'error']), code: z.string().nullable() }).nullable(),
  /** The manual read MDN has been sent. */
  readMdnSent: z.boolean(),
});
export type InboxMessage = z.infer<typeof InboxMessage>;

export const InboxDocumentView = z.object({
  document: InboxDocument,
  account: z.string(),
  messageId: z.string().nullable(),
  header: z.object({
    title: z.string(),
    typeCode: z.string(),
    typeLabel: z.string().nullable(),
    effectiveTime: z.string().nullable(),
    confidentiality: z.string().nullable(),
    authors: z.array(z.object({ name: z.string(), organization: z.string().nullable(), time: z.string().nullable() })),
    custodian: z.string().nullable(),
    patient: z.object({
      birthFamily: z.string().nullable(),
      usedFamily: z.string().nullable(),
      givens: z.string().nullable(),
      gender: z.string().nullable(),
      birthDate: z.string().nullable(),
      birthPlace: z.string().nullable(),
      ins: z.string().nullable(),
      insOid: z.string().nullable(),
    }),
    serviceStart: z.string().nullable(),
    serviceStop: z.string().nullable(),
    level: z.union([z.literal(1), z.literal(3)]),
  }),
  /** Safe, inert HTML of the narrative (allow-listed elements, no attribute but table spans, no URL). */
  html: z.string(),
  /** The PDF (companion attachment, or the embedded body of a level-1 CDA), base64, when within the cap. */
  pdf: z.object({ name: z.string(), size: z.number().int(), base64: z.string().nullable(), tooLarge: z.boolean(), source: z.enum(['attachment', 'embedded']) }).nullable(),
  /** Every version of the document held here, newest first (the current one included). */
  versions: z.array(z.object({ id: z.number().int(), version: z.number().int().nullable(), status: InboxDocumentStatus, receivedAt: z.string(), title: z.string().nullable(), current: z.boolean() })),
});
export type InboxDocumentView = z.infer<typeof InboxDocumentView>;

export const SentAckState = z.enum(['pending', 'not-requested', 'delivered', 'read', 'integrated', 'failed', 'delayed']);

export const InboxSentMessage = z.object({
  id: z.string(),
  account: z.string(),
  messageId: z.string(),
  recipients: z.array(z.string()),
  subject: z.string(),
  status: z.enum(['queued', 'sending', 'sent', 'failed']),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  documents: z.array(z.object({ id: z.string(), title: z.string().nullable() })),
  patientName: z.string().nullable(),
  requested: z.object({ delivery: z.boolean(), read: z.boolean() }),
  delivery: z.string().nullable(),
  read: z.string().nullable(),
  integration: z.string().nullable(),
  error: InboxErrorCode.nullable(),
  ackAt: z.string().nullable(),
});
export type InboxSentMessage = z.infer<typeof InboxSentMessage>;

export const InboxSyncSummary = z.object({
  accounts: z.array(
    z.object({
      account: z.string(),
      ok: z.boolean(),
      examined: z.number().int(),
      integrated: z.number().int(),
      queued: z.number().int(),
      rejected: z.number().int(),
      reports: z.number().int(),
      mdnsSent: z.number().int(),
      error: z.object({ code: z.string(), message: z.string(), detail: z.string().optional() }).optional(),
    }),
  ),
});
export type InboxSyncSummary = z.infer<typeof InboxSyncSummary>;

/** The `task.progress` id of a manual sync. */
export const INBOX_SYNC_TASK = 'inbox.sync';

/** Largest PDF sent to the renderer inline (bigger ones: download through the CLI or a later stream). */
export const INBOX_PDF_CAP_BYTES = 15 * 1024 * 1024;

export const inboxMethods = {
  'inbox.messages.list': {
    summary: 'Received MSSanté messages with their documents and current integration status, newest first.',
    input: z
      .object({
        account: z.string().optional(),
        /** Only messages with at least one document in this status. */
        status: InboxDocumentStatus.optional(),
        limit: z.number().int().min(1).max(500).default(200),
      })
      .strict(),
    output: z.array(InboxMessage),
  },
  'inbox.document.get': {
    summary: 'One received document: header, safe narrative HTML, PDF (base64, capped) and its versions. Traced.',
    input: z.object({ id: z.number().int() }).strict(),
    output: InboxDocumentView,
  },
  'inbox.document.versions': {
    summary: 'Every version held of a received document (replacement chain), newest first.',
    input: z.object({ id: z.number().int() }).strict(),
    output: InboxDocumentView.shape.versions,
  },
  'inbox.sent.list': {
    summary: 'Sent document messages with their acknowledgements (delivered, read, integrated, failed + code).',
    input: z.object({ account: z.string().optional(), limit: z.number().int().min(1).max(500).default(200) }).strict(),
    output: z.array(InboxSentMessage),
  },
  'inbox.sync': {
    summary: `Synchronises one mailbox (or all) now, emitting task.progress "${INBOX_SYNC_TASK}"; per-account summary.`,
    input: z.object({ account: z.string().optional() }).strict(),
    output: InboxSyncSummary,
  },
} satisfies Record<string, MethodDef>;
