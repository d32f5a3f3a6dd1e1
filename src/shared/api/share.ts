import { z } from 'zod';
import { DmpMasking, DmpStatusResult } from './dmp';
import type { MethodDef } from './types';

/**
 * Y mode: one clinical document sent by MSSanté and/or published in the patient's DMP in one action. The
 * document is prepared first (a PDF wrapped in a CDA authored by the signed-in practitioner, or an existing
 * CDA), then sent; each channel has its own persisted state, and a partial failure is resumed without redoing
 * the channel that succeeded.
 */

/** A PDF chosen by the user, base64 (renderer), capped at 20 MB. */
export const SHARE_MAX_PDF_BYTES = 20 * 1024 * 1024;
const MAX_B64 = Math.ceil((SHARE_MAX_PDF_BYTES * 4) / 3) + 4;

export const ShareChannelId = z.enum(['mssante', 'dmp']);
export type ShareChannelId = z.infer<typeof ShareChannelId>;

export const ShareDocumentType = z.object({ code: z.string(), codeSystem: z.string(), label: z.string(), common: z.boolean() });

export const ShareDraft = z.object({
  draftId: z.string(),
  patientId: z.number().int(),
  title: z.string(),
  typeCode: z.string(),
  typeLabel: z.string(),
  /** Date of the act (YYYY-MM-DD). */
  date: z.string(),
  /** CDA id (root[^extension]) — the DMP uniqueId. */
  documentId: z.string(),
  source: z.enum(['pdf', 'cda']),
  size: z.number().int(),
  author: z.object({ name: z.string(), nationalId: z.string(), organization: z.string() }),
  patient: z.object({ name: z.string(), ins: z.string().nullable(), insQualified: z.boolean() }),
  /** `<INS>@patient.mssante.fr` when the patient's INS is qualified (Mon espace santé), else null. */
  patientAddress: z.string().nullable(),
  /** The practitioner's own mailboxes (sender choice). */
  senders: z.array(z.object({ address: z.string(), kind: z.enum(['PER', 'ORG', 'APP']), displayName: z.string().optional() })),
  /** Prefilled from the document. */
  subject: z.string(),
  body: z.string(),
});
export type ShareDraft = z.infer<typeof ShareDraft>;

/** TD0.2 seen from the wizard: what the user can do next. */
export const ShareDmpCheck = z.object({
  state: z.enum(['ready', 'no-dmp', 'closed', 'authorization-missing', 'authorization-expired', 'forbidden', 'no-ins', 'unavailable']),
  canPublish: z.boolean(),
  /** The PS may record an authorization (TD0.3) after the patient's consent. */
  canAuthorize: z.boolean(),
  message: z.string(),
  status: DmpStatusResult.optional(),
  error: z.object({ code: z.string(), message: z.string(), detail: z.string().optional() }).optional(),
});
export type ShareDmpCheck = z.infer<typeof ShareDmpCheck>;

export const ShareChannelView = z.object({
  status: z.enum(['pending', 'running', 'done', 'failed']),
  attempts: z.number().int(),
  result: z.record(z.string(), z.string()).optional(),
  error: z.object({ code: z.string(), message: z.string(), detail: z.string().optional() }).optional(),
  updatedAt: z.string(),
});

export const ShareJobView = z.object({
  id: z.string(),
  createdAt: z.string(),
  title: z.string(),
  patientIns: z.string().nullable(),
  patientName: z.string().optional(),
  recipients: z.array(z.string()),
  masking: DmpMasking.optional(),
  channels: z.object({ mssante: ShareChannelView.optional(), dmp: ShareChannelView.optional() }),
  /** Overall: running while a channel runs; partial when one succeeded and another failed. */
  state: z.enum(['running', 'done', 'partial', 'failed']),
  /** Acknowledgements of the MSSanté message (delivery / read / integration by the recipient). */
  acks: z.object({ delivery: z.string().nullable(), read: z.string().nullable(), integration: z.string().nullable(), code: z.string().nullable() }).optional(),
});
export type ShareJobView = z.infer<typeof ShareJobView>;

const Email = z.string().trim().toLowerCase().email('adresse de messagerie invalide').max(254);

export const ShareSendInput = z
  .object({
    draftId: z.string().min(1).max(64),
    mssante: z
      .object({
        from: Email,
        to: z.array(Email).max(50).default([]),
        cc: z.array(Email).max(50).default([]),
        /** Adds the patient's Mon espace santé address (qualified INS only). */
        toPatient: z.boolean().default(false),
        /** `X-MSS-MES: FIN`: the patient cannot reply. */
        closePatientChannel: z.boolean().default(false),
        subject: z.string().trim().min(1).max(250),
        body: z.string().max(20_000).default(''),
        ack: z.object({ delivery: z.boolean(), read: z.boolean() }).default({ delivery: true, read: true }),
      })
      .strict()
      .refine((m) => m.to.length > 0 || m.toPatient, { message: 'au moins un destinataire', path: ['to'] })
      .optional(),
    dmp: z.object({ masking: DmpMasking }).strict().optional(),
  })
  .strict()
  .refine((v) => !!v.mssante || !!v.dmp, { message: 'choisissez la messagerie, le DMP ou les deux' });

export const shareMethods = {
  'share.documentTypes': {
    summary: 'Document types (J07 TRANSACTION type codes, French labels), the common ones first.',
    input: z.object({}).strict(),
    output: z.array(ShareDocumentType),
  },
  'share.prepare': {
    summary: 'Builds the CDA of a share for a local patient from a PDF (type, title, date) or takes an existing CDA; stored encrypted.',
    input: z
      .object({
        patientId: z.number().int(),
        source: z.discriminatedUnion('kind', [
          z.object({ kind: z.literal('pdf'), fileName: z.string().max(255).optional(), pdfBase64: z.string().min(8).max(MAX_B64) }).strict(),
          z.object({ kind: z.literal('cda'), fileName: z.string().max(255).optional(), cdaBase64: z.string().min(8).max(MAX_B64) }).strict(),
        ]),
        typeCode: z.string().min(1).max(40).optional(),
        title: z.string().trim().min(1).max(200).optional(),
        date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'date AAAA-MM-JJ').optional(),
      })
      .strict(),
    output: ShareDraft,
  },
  'share.dmpCheck': {
    summary: "TD0.2 for the share's patient, as a wizard state (no DMP, closed, authorization missing/expired…).",
    input: z.object({ patientId: z.number().int() }).strict(),
    output: ShareDmpCheck,
  },
  'share.authorize': {
    summary: "TD0.3 after the patient's consent was confirmed by the practitioner.",
    input: z.object({ patientId: z.number().int(), consent: z.literal(true) }).strict(),
    output: ShareDmpCheck,
  },
  'share.send': {
    summary: 'Starts the share (both channels in parallel); returns at once with the job id — follow it with share.get / task.progress.',
    input: ShareSendInput,
    output: z.object({ jobId: z.string() }),
  },
  'share.get': {
    summary: 'One share with the state of each channel.',
    input: z.object({ jobId: z.string().min(1).max(64) }).strict(),
    output: ShareJobView,
  },
  'share.resume': {
    summary: 'Re-runs only the channels of a share that are not done (never resends what succeeded).',
    input: z.object({ jobId: z.string().min(1).max(64) }).strict(),
    output: z.object({ jobId: z.string() }),
  },
  'share.list': {
    summary: 'Recent shares, newest first.',
    input: z.object({ limit: z.number().int().min(1).max(200).default(20) }).strict(),
    output: z.array(ShareJobView),
  },
} satisfies Record<string, MethodDef>;
