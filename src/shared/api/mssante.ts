import { z } from 'zod';
import type { MethodDef } from './types';

/** MSSanté secure messaging: accounts, sending (persistent outbox), reception, MDN, directory. */
export const MailAccount = z.object({
  address: z.string(),
  kind: z.enum(['PER', 'ORG', 'APP']),
  displayName: z.string().optional(),
  auth: z.enum(['psc', 'password', 'client-cert']),
  imap: z.object({ host: z.string(), port: z.number().int() }),
  smtp: z.object({ host: z.string(), port: z.number().int() }),
  sandbox: z.boolean(),
});
export type MailAccount = z.infer<typeof MailAccount>;

export const OutboxItem = z.object({
  id: z.string(),
  account: z.string(),
  kind: z.enum(['document', 'mdn', 'message']),
  messageId: z.string(),
  recipients: z.array(z.string()),
  subject: z.string(),
  status: z.enum(['queued', 'sending', 'sent', 'failed']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
  sentCopy: z.boolean(),
  dsn: z.boolean(),
  /** From DSNs: delivered / failed / delayed. */
  deliveryStatus: z.string().nullable(),
  /** From a read MDN: read. */
  readStatus: z.string().nullable(),
  /** From a processed MDN: integrated / failed (+ ackCode 900–906). */
  integrationStatus: z.string().nullable(),
  ackCode: z.string().nullable(),
  ackAt: z.string().nullable(),
  meta: z.record(z.string(), z.unknown()),
});
export type OutboxItem = z.infer<typeof OutboxItem>;

export const SendInput = z
  .object({
    from: z.string().email(),
    to: z.array(z.string().email()).min(1).max(50),
    cc: z.array(z.string().email()).max(50).optional(),
    /** CDA R2 files (paths readable by the main process) — all for ONE patient. */
    cdaFiles: z.array(z.string().min(1)).max(20).optional(),
    subject: z.string().max(200).optional(),
    body: z.string().max(100_000).optional(),
    ack: z.object({ delivery: z.boolean().default(false), read: z.boolean().default(false) }).default({ delivery: false, read: false }),
    /** Also address the patient's Mon espace santé mailbox (qualified INS only). */
    toPatient: z.boolean().default(false),
    /** X-MSS-MES: FIN (the patient cannot reply). */
    closePatientChannel: z.boolean().default(false),
    /** XDM action: C replacement, D deletion of documents sent earlier. */
    action: z.enum(['C', 'D']).optional(),
    /** Send now (default) or only queue. */
    sendNow: z.boolean().default(true),
  })
  .strict();
export type SendInput = z.input<typeof SendInput>;

export const DocumentOutcome = z.object({
  documentId: z.string(),
  title: z.string().optional(),
  typeCode: z.string().optional(),
  classification: z.enum(['initial', 'replacement', 'metadata-update', 'deletion']),
  result: z.enum(['integrated', 'queued', 'rejected', 'deleted', 'duplicate']),
  code: z.string().optional(),
  detail: z.string().optional(),
  patientId: z.number().int().optional(),
  rowId: z.number().int().optional(),
  replacesRowId: z.number().int().optional(),
});

export const MessageOutcome = z.object({
  uid: z.number().int(),
  messageId: z.string().nullable(),
  from: z.string().nullable(),
  subject: z.string().nullable(),
  kind: z.enum(['document', 'report', 'other', 'duplicate', 'already-processed', 'rejected']),
  documents: z.array(DocumentOutcome),
  error: z.object({ code: z.string(), detail: z.string() }).optional(),
  report: z.record(z.string(), z.unknown()).optional(),
  mdn: z.object({ outboxId: z.string(), disposition: z.enum(['processed', 'error']), code: z.string().optional() }).optional(),
});

export const SyncResult = z.object({
  account: z.string(),
  mailbox: z.string(),
  uidValidity: z.string(),
  examined: z.number().int(),
  messages: z.array(MessageOutcome),
  mdnsSent: z.array(OutboxItem),
});
export type SyncResult = z.infer<typeof SyncResult>;

export const ReceivedDocument = z.object({
  id: z.number().int(),
  account: z.string(),
  messageId: z.string().nullable(),
  documentId: z.string(),
  setId: z.string().nullable(),
  version: z.number().int().nullable(),
  typeCode: z.string().nullable(),
  title: z.string().nullable(),
  effectiveTime: z.string().nullable(),
  authorId: z.string().nullable(),
  authorName: z.string().nullable(),
  patientIns: z.string().nullable(),
  patientName: z.string().nullable(),
  patientBirthDate: z.string().nullable(),
  patientId: z.number().int().nullable(),
  classification: z.enum(['initial', 'replacement', 'metadata-update', 'deletion']),
  status: z.enum(['integrated', 'queued', 'replaced', 'deleted', 'rejected']),
  errorCode: z.string().nullable(),
  replacesId: z.number().int().nullable(),
  replacedById: z.number().int().nullable(),
  deletedAt: z.string().nullable(),
  pdfName: z.string().nullable(),
  receivedAt: z.string(),
});
export type ReceivedDocument = z.infer<typeof ReceivedDocument>;

export const DirectoryEntry = z.object({
  address: z.string(),
  kind: z.string().nullable(),
  nationalId: z.string().nullable(),
  family: z.string().nullable(),
  given: z.string().nullable(),
  profession: z.string().nullable(),
  specialty: z.string().nullable(),
  organization: z.string().nullable(),
  city: z.string().nullable(),
  postalCode: z.string().nullable(),
  /** Where the entry comes from: the local index of the bulk extraction, or the online FHIR annuaire. */
  source: z.enum(['local', 'annuaire-fhir']).optional(),
});
export type DirectoryEntry = z.infer<typeof DirectoryEntry>;

export const DirectoryQuery = z
  .object({
    text: z.string().max(200).optional(),
    family: z.string().max(100).optional(),
    given: z.string().max(100).optional(),
    profession: z.string().max(100).optional(),
    city: z.string().max(100).optional(),
    nationalId: z.string().max(30).optional(),
    limit: z.number().int().min(1).max(200).default(50),
    /** Also ask the online FHIR annuaire (ANS Annuaire Santé); local results come first. */
    online: z.boolean().default(false),
  })
  .strict();
export type DirectoryQuery = z.input<typeof DirectoryQuery>;

export const DirectorySearchResult = z.object({
  /** Local matches counted up to 1000, plus the online entries added (not already in the local index). */
  total: z.number().int(),
  entries: z.array(DirectoryEntry),
  tookMs: z.number(),
  /** With `online`: what the online annuaire added. */
  online: z.object({ added: z.number().int(), duplicates: z.number().int(), more: z.boolean(), tookMs: z.number(), requests: z.number().int() }).optional(),
  /** With `online`: why the online part failed (the local results are still there). */
  warning: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type DirectorySearchResult = z.infer<typeof DirectorySearchResult>;

/** The online annuaire configuration as the settings screen sees it (never the API key itself). */
export const DirectoryOnlineView = z.object({
  /** `sandbox`: the sandbox's FHIR annuaire (active sandbox profile); `settings`: the production settings. */
  source: z.enum(['sandbox', 'settings']),
  baseUrl: z.string(),
  apiKeySet: z.boolean(),
});
export type DirectoryOnlineView = z.infer<typeof DirectoryOnlineView>;

export const mssanteMethods = {
  'mssante.accounts.list': {
    summary: 'The MSSanté mailboxes of the active profile (no secrets).',
    input: z.object({}).strict(),
    output: z.array(MailAccount),
  },
  'mssante.send': {
    summary: 'Builds a TM3.2C message (XDM + PDFs + X-MSS headers) into the persistent outbox and sends it.',
    input: SendInput,
    output: OutboxItem,
  },
  'mssante.outbox.list': {
    summary: 'Outbox and sent messages with their acknowledgement status.',
    input: z.object({ account: z.string().optional(), status: z.enum(['queued', 'sending', 'sent', 'failed']).optional(), limit: z.number().int().min(1).max(500).default(100) }).strict(),
    output: z.array(OutboxItem),
  },
  'mssante.outbox.flush': {
    summary: 'Sends what is due in the outbox now.',
    input: z.object({ account: z.string().optional() }).strict(),
    output: z.array(OutboxItem),
  },
  'mssante.sync': {
    summary: 'Synchronises a mailbox: integrates document mails, queues the rest, answers MDNs, records incoming MDN/DSN.',
    input: z.object({ account: z.string() }).strict(),
    output: SyncResult,
  },
  'mssante.mdn.read': {
    summary: 'Sends a manual read notification for a received message that asked for one.',
    input: z.object({ account: z.string(), messageId: z.string() }).strict(),
    output: OutboxItem,
  },
  'mssante.documents.list': {
    summary: 'Received documents (integrated, queued for manual import, replaced, deleted, rejected).',
    input: z
      .object({
        account: z.string().optional(),
        status: z.enum(['integrated', 'queued', 'replaced', 'deleted', 'rejected']).optional(),
        patientId: z.number().int().optional(),
        limit: z.number().int().min(1).max(500).default(100),
      })
      .strict(),
    output: z.array(ReceivedDocument),
  },
  'mssante.documents.attach': {
    summary: 'Manual import: attaches a queued document to a local patient (UX.05).',
    input: z.object({ id: z.number().int(), patientId: z.number().int() }).strict(),
    output: ReceivedDocument,
  },
  'mssante.directory.search': {
    summary: 'Multi-criteria search of MSSanté addresses in the local directory index.',
    input: DirectoryQuery,
    /** `total` counts matches up to 1000 (then: more than 1000, refine the search); entries sorted by name. */
    output: DirectorySearchResult,
  },
  'mssante.directory.online.get': {
    summary: 'The online FHIR annuaire configuration of the active profile (base URL, whether an API key is set).',
    input: z.object({}).strict(),
    output: DirectoryOnlineView,
  },
  'mssante.directory.online.set': {
    summary: 'Production settings of the online FHIR annuaire: base URL (https) and API key (stored encrypted; omitted = keep).',
    input: z.object({ baseUrl: z.string().min(1).max(500).optional(), apiKey: z.string().min(1).max(500).optional(), clearApiKey: z.boolean().optional() }).strict(),
    output: DirectoryOnlineView,
  },
  'mssante.directory.import': {
    summary: 'Imports the ANS public bulk extraction of MSSanté mailboxes into the local index.',
    input: z.object({ file: z.string().min(1) }).strict(),
    output: z.object({ rows: z.number().int(), skipped: z.number().int(), tookMs: z.number() }),
  },
} satisfies Record<string, MethodDef>;
