import { z } from 'zod';
import type { MethodDef } from './types';

/** The patient's national shared record (DMP): TD0.2, TD0.3, TD2.1, TD3.1, TD3.2, TD3.3. */

const Ins = z.string().regex(/^[0-9]{6}[0-9AB][0-9]{8}$/, 'INS : 15 caractères (NIR ou NIA)');
const InsOid = z.string().regex(/^1\.2\.250\.1\.213\.1\.4\.(8|9|10|11)$/, "OID d'INS inconnu");

export const DmpPatientInput = z.object({ ins: Ins, insOid: InsOid.optional() }).strict();

export const DmpStatusResult = z.object({
  ins: z.string(),
  insOid: z.string(),
  dmp: z.enum(['ACTIF', 'FERME', 'INEXISTANT']),
  authorization: z.enum(['VALIDE', 'EXPIRE', 'NON_EXISTE', 'INTERDIT']),
  treatingPhysician: z.boolean(),
  patientWebAccess: z.boolean().optional(),
  closureDate: z.string().optional(),
  closureReason: z.string().optional(),
  /** What the user should do next, in French. */
  advice: z.string(),
});
export type DmpStatusResult = z.infer<typeof DmpStatusResult>;

export const DmpCoded = z.object({ code: z.string(), scheme: z.string(), display: z.string() });

export const DmpDocumentStatus = z.enum(['approved', 'deprecated', 'archived', 'deleted']);

export const DmpDocument = z.object({
  uniqueId: z.string(),
  entryUuid: z.string(),
  title: z.string().optional(),
  status: DmpDocumentStatus.or(z.string()),
  mimeType: z.string(),
  typeCode: DmpCoded.optional(),
  classCode: DmpCoded.optional(),
  formatCode: DmpCoded.optional(),
  creationTime: z.string().optional(),
  serviceStartTime: z.string().optional(),
  serviceStopTime: z.string().optional(),
  authors: z.array(z.string()),
  masking: z.array(z.string()),
  confidentiality: z.array(z.string()),
  eventCodes: z.array(DmpCoded),
  referenceIds: z.array(z.string()),
  repositoryUniqueId: z.string().optional(),
  size: z.number().optional(),
  hash: z.string().optional(),
  version: z.string().optional(),
  isSignature: z.boolean(),
});
export type DmpDocument = z.infer<typeof DmpDocument>;

export const DmpMasking = z
  .object({
    maskPs: z.boolean().default(false),
    invisiblePatient: z.boolean().default(false),
    invisibleLegalReps: z.boolean().default(false),
  })
  .strict();

/** Filters of the DMP record list (TD3.1 FindDocuments). */
export const DmpSearchFilters = DmpPatientInput.extend({
  typeCodes: z.array(z.string()).optional(),
  classCodes: z.array(z.string()).optional(),
  modalities: z.array(z.string()).optional(),
  regions: z.array(z.string()).optional(),
  accessionNumbers: z.array(z.string()).optional(),
  statuses: z.array(z.enum(['approved', 'deprecated', 'archived'])).optional(),
  creationFrom: z.string().regex(/^\d{4,14}$/).optional(),
  creationTo: z.string().regex(/^\d{4,14}$/).optional(),
  serviceStartFrom: z.string().regex(/^\d{4,14}$/).optional(),
  serviceStartTo: z.string().regex(/^\d{4,14}$/).optional(),
});

/**
 * One document of the record with its earlier versions: the metadata versions of the same uniqueId (each mask or
 * visibility change is a new version of the entry) and the documents it replaced (RPLC), newest first.
 */
export const DmpDocumentGroup = z.object({
  current: DmpDocument,
  previous: z.array(z.object({ document: DmpDocument, kind: z.enum(['metadata', 'replaced']) })),
});
export type DmpDocumentGroup = z.infer<typeof DmpDocumentGroup>;

/** What the document view shows: header summary, safe narrative HTML, the PDF when the CDA embeds one. */
export const DmpDocumentView = z.object({
  document: DmpDocument,
  kind: z.enum(['cda', 'dicom', 'other']),
  header: z
    .object({
      title: z.string(),
      typeCode: z.string(),
      typeLabel: z.string().nullable(),
      effectiveTime: z.string().nullable(),
      confidentiality: z.string().nullable(),
      authors: z.array(z.object({ name: z.string(), organization: z.string().nullable() })),
      custodian: z.string().nullable(),
      patient: z.object({ name: z.string(), gender: z.string().nullable(), birthDate: z.string().nullable(), ins: z.string().nullable() }),
      serviceStart: z.string().nullable(),
      serviceStop: z.string().nullable(),
      level: z.union([z.literal(1), z.literal(3)]),
      versionNumber: z.number().int().nullable(),
    })
    .nullable(),
  /** Safe, inert HTML (allow-listed elements, no URL): render it in a sandboxed frame. */
  html: z.string(),
  pdf: z.object({ name: z.string(), size: z.number().int(), base64: z.string().nullable(), tooLarge: z.boolean() }).nullable(),
});
export type DmpDocumentView = z.infer<typeof DmpDocumentView>;

/** Largest PDF sent to the renderer for display (beyond: "too large", download it elsewhere). */
export const DMP_VIEW_PDF_CAP_BYTES = 20 * 1024 * 1024;

export const dmpMethods = {
  'dmp.status': {
    summary: "TD0.2: whether the patient's DMP exists and is active, and the user's authorization on it.",
    input: DmpPatientInput,
    output: DmpStatusResult,
  },
  'dmp.authorize': {
    summary: "TD0.3: records (after the patient's consent) or removes the user's authorization on the DMP.",
    input: DmpPatientInput.extend({ remove: z.boolean().default(false) }).strict(),
    output: z.object({ status: z.string(), expiresAt: z.string().optional(), after: DmpStatusResult }),
  },
  'dmp.publish': {
    summary: 'TD2.1: publishes a CDA document (signed submission set), optionally replacing an earlier version.',
    input: z
      .object({
        /** Path of the CDA file (CLI, main process) or its content in base64 (renderer). */
        path: z.string().min(1).optional(),
        cdaBase64: z.string().min(1).optional(),
        masking: DmpMasking.default({ maskPs: false, invisiblePatient: false, invisibleLegalReps: false }),
        replaceUniqueId: z.string().min(1).optional(),
      })
      .strict()
      .refine((v) => !!v.path !== !!v.cdaBase64, { message: 'path ou cdaBase64 (un seul)' }),
    output: z.object({
      uniqueId: z.string(),
      ins: z.string(),
      setUniqueId: z.string().optional(),
      replacedEntryUuid: z.string().optional(),
      outcome: z.enum(['published', 'already-published', 'confirmed-after-timeout', 'resubmitted-after-timeout']),
    }),
  },
  'dmp.search': {
    summary: 'TD3.1: finds documents (type, modality, anatomic region, accession number, status…).',
    input: DmpPatientInput.extend({
      typeCodes: z.array(z.string()).optional(),
      classCodes: z.array(z.string()).optional(),
      modalities: z.array(z.string()).optional(),
      regions: z.array(z.string()).optional(),
      accessionNumbers: z.array(z.string()).optional(),
      statuses: z.array(z.enum(['approved', 'deprecated', 'archived'])).optional(),
      creationFrom: z.string().regex(/^\d{4,14}$/).optional(),
      creationTo: z.string().regex(/^\d{4,14}$/).optional(),
      serviceStartFrom: z.string().regex(/^\d{4,14}$/).optional(),
      serviceStartTo: z.string().regex(/^\d{4,14}$/).optional(),
      includeSignatures: z.boolean().default(false),
    }).strict(),
    output: z.object({ documents: z.array(DmpDocument) }),
  },
  'dmp.get': {
    summary: 'TD3.1 + TD3.2: retrieves a document (checked against its hash) and writes it to a file or returns it.',
    input: DmpPatientInput.extend({ uniqueId: z.string().min(1), output: z.string().min(1).optional() }).strict(),
    output: z.object({ document: DmpDocument, path: z.string().optional(), contentBase64: z.string().optional(), size: z.number() }),
  },
  'dmp.set': {
    summary: 'TD3.3: mask/unmask to PS, visibility to the patient / legal representatives, archive/unarchive, delete.',
    input: DmpPatientInput.extend({
      uniqueId: z.string().min(1),
      action: z.enum(['mask-ps', 'unmask-ps', 'invisible-patient', 'visible-patient', 'invisible-legal-reps', 'visible-legal-reps', 'archive', 'unarchive', 'delete']),
    }).strict(),
    output: z.object({ document: DmpDocument }),
  },
  'dmp.typeCodes': {
    summary: 'The J07 document types (code, code system, French label) for the type filter, sorted by label.',
    input: z.object({}).strict(),
    output: z.object({ types: z.array(z.object({ code: z.string(), scheme: z.string(), label: z.string() })) }),
  },
  'dmp.list': {
    summary: "TD3.1 (+ TD3.2 of the current CDAs when needed): the record's documents grouped with their earlier versions.",
    input: DmpSearchFilters.strict(),
    output: z.object({ groups: z.array(DmpDocumentGroup) }),
  },
  'dmp.view': {
    summary: 'TD3.1 + TD3.2: one document for display (header summary, safe narrative HTML, embedded PDF).',
    input: DmpPatientInput.extend({ uniqueId: z.string().min(1) }).strict(),
    output: DmpDocumentView,
  },
  'dmp.newVersion': {
    summary: 'Builds a new CDA version (RPLC) of a document from its retrieved CDA and a new PDF, and publishes it replacing the old one.',
    input: DmpPatientInput.extend({
      uniqueId: z.string().min(1),
      pdfBase64: z.string().min(8),
      title: z.string().min(1).max(250).optional(),
      /** Default: the masking of the replaced document. */
      masking: DmpMasking.optional(),
    }).strict(),
    output: z.object({
      uniqueId: z.string(),
      ins: z.string(),
      replacedUniqueId: z.string(),
      versionNumber: z.number().int(),
      outcome: z.enum(['published', 'already-published', 'confirmed-after-timeout', 'resubmitted-after-timeout']),
    }),
  },
} satisfies Record<string, MethodDef>;
