import { z } from 'zod';
import type { MethodDef } from './types';

/**
 * Imaging: the patient's exams in the DMP (KOS + CR-IMG linked by accession number), opening one in the
 * viewer (a session whose images are streamed through `lps-imaging:` — the token stays in main), closing it.
 */

const Ins = z.string().regex(/^[0-9]{6}[0-9AB][0-9]{8}$/, 'INS : 15 caractères (NIR ou NIA)');
const Ymd = z.string().regex(/^\d{4}-?\d{2}-?\d{2}$/, 'date attendue : AAAA-MM-JJ');

export const ImagingExam = z.object({
  kosUniqueId: z.string(),
  title: z.string().optional(),
  /** YYYYMMDD */
  date: z.string().optional(),
  accessionNumber: z.string().optional(),
  studyInstanceUids: z.array(z.string()),
  modalities: z.array(z.string()),
  regions: z.array(z.object({ code: z.string(), displayName: z.string().optional() })),
  reports: z.array(z.object({ uniqueId: z.string(), title: z.string().optional(), date: z.string().optional() })),
});
export type ImagingExam = z.infer<typeof ImagingExam>;

export const ImagingInstance = z.object({ sopInstanceUid: z.string(), sopClassUid: z.string() });

export const ImagingSeries = z.object({
  studyInstanceUid: z.string(),
  seriesInstanceUid: z.string(),
  /** False when the KOS gives no DICOMweb location for this series (it cannot be displayed). */
  reachable: z.boolean(),
  instances: z.array(ImagingInstance),
});
export type ImagingSeries = z.infer<typeof ImagingSeries>;

export const ImagingSession = z.object({
  /** Session handle: pass it to `imaging.close`. */
  handle: z.string(),
  /** Path under the `lps-imaging` stream scheme: the renderer's DICOMweb root is `lps.streamUrl('lps-imaging', streamPath)`. */
  streamPath: z.string(),
  kosUniqueId: z.string(),
  source: z.enum(['dmp', 'sandbox-seed', 'file']),
  patient: z.object({ id: z.string().optional(), name: z.string().optional(), birthDate: z.string().optional(), sex: z.string().optional() }),
  accessionNumber: z.string().optional(),
  studyDate: z.string().optional(),
  studyDescription: z.string().optional(),
  series: z.array(ImagingSeries),
  instanceCount: z.number(),
  warnings: z.array(z.string()),
});
export type ImagingSession = z.infer<typeof ImagingSession>;

export const ImagingExamFilters = z
  .object({
    ins: Ins,
    from: Ymd.optional(),
    to: Ymd.optional(),
    modality: z.string().regex(/^[A-Z]{2,4}$/).optional(),
    /** SNOMED CT code of the anatomic region. */
    region: z.string().regex(/^\d{4,18}$/).optional(),
  })
  .strict();

export const imagingMethods = {
  'imaging.exams': {
    summary: "The patient's imaging exams in the DMP (KOS, TD3.1) by date, modality and region, each with its CR-IMG report(s).",
    input: ImagingExamFilters,
    output: z.object({ ins: z.string(), source: z.enum(['dmp', 'sandbox-seed']), exams: z.array(ImagingExam) }),
  },
  'imaging.open': {
    summary: 'Resolves a KOS (from the DMP by uniqueId, from a CR-IMG report, or a local KOS file) and opens a viewing session.',
    input: z
      .object({
        ins: Ins.optional(),
        kosUniqueId: z.string().min(1).optional(),
        /** A CR-IMG report's uniqueId: its KOS is found through the accession number. */
        reportUniqueId: z.string().min(1).optional(),
        /** A local KOS file: its path (Electron, after the file dialog) or its bytes in base64 (browser harness). */
        path: z.string().min(1).optional(),
        kosBase64: z.string().min(1).max(20_000_000).optional(),
      })
      .strict()
      .refine((v) => [v.kosUniqueId, v.reportUniqueId, v.path, v.kosBase64].filter(Boolean).length === 1, {
        message: 'un seul parmi kosUniqueId, reportUniqueId, path, kosBase64',
      })
      .refine((v) => !(v.kosUniqueId || v.reportUniqueId) || !!v.ins, { message: "l'INS du patient est requis" }),
    output: ImagingSession,
  },
  'imaging.prefetch': {
    summary: 'Retrieves one series of an open session in the background in a single WADO-RS request; the viewer\'s frame requests are then served from it.',
    input: z.object({ handle: z.string().min(10), seriesInstanceUid: z.string().min(1) }).strict(),
    output: z.object({ started: z.boolean() }),
  },
  'imaging.close': {
    summary: 'Closes a viewing session: its transfers are cancelled and its stream URLs stop working.',
    input: z.object({ handle: z.string().min(10) }).strict(),
    output: z.object({ closed: z.boolean() }),
  },
} satisfies Record<string, MethodDef>;
