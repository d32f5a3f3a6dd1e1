/** The JSON request `lps cda new` (and the UI) builds a CDA from. Documented in docs/cda-request.md. */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../core/errors';

const isoDateTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?)?$/, 'date ISO 8601 attendue (AAAA-MM-JJ ou AAAA-MM-JJThh:mm:ss+01:00)');
const oid = z.string().regex(/^[0-2](\.(0|[1-9]\d*))+$/, 'OID attendu (ex. 1.2.250.1.213.1.4.10)');

export const cdaRequestSchema = z.object({
  patient: z
    .object({
      ins: z.string().regex(/^[0-9]{13}[0-9]{2}$|^[12][0-9]{4}2[AB][0-9]{6}[0-9]{2}$/, 'INS : 15 caractères (NIR + clé)').optional(),
      insOid: oid.default('1.2.250.1.213.1.4.8'),
      insQualified: z.boolean().default(false),
      birthFamily: z.string().min(1),
      birthGiven: z.string().min(1),
      firstGiven: z.string().min(1),
      usedFamily: z.string().optional(),
      usedGiven: z.string().optional(),
      gender: z.enum(['M', 'F', 'U']),
      birthDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'date de naissance AAAA-MM-JJ'),
      birthPlace: z.string().regex(/^[0-9][0-9AB][0-9]{3}$/, 'code INSEE (5 caractères)').optional(),
      ipp: z.object({ id: z.string().min(1), oid, name: z.string().optional() }).optional(),
    })
    .strict(),
  author: z
    .object({
      idNat: z.string().regex(/^[0-9]{1}[0-9A-Z]{5,}$/, 'identifiant national : 8 + RPPS ou 0 + ADELI'),
      family: z.string().min(1),
      given: z.string().min(1),
      prefix: z.string().optional(),
      profession: z.string().regex(/^[0-9]{2}$/, 'code profession G15 (ex. 10)'),
      specialty: z.string().optional(),
      time: isoDateTime.optional(),
      organization: z.object({ id: z.string().min(1), name: z.string().min(1), idRoot: oid.optional() }).strict(),
    })
    .strict(),
  document: z
    .object({
      typeCode: z.string().min(1),
      typeCodeSystem: oid.optional(),
      title: z.string().min(1).max(250),
      pdf: z.string().optional(),
      text: z.string().optional(),
      serviceStart: isoDateTime,
      serviceStop: isoDateTime.optional(),
      serviceCode: z.object({ code: z.string(), codeSystem: oid, displayName: z.string().optional() }).optional(),
      facilityType: z.string().min(1),
      practiceSetting: z.string().min(1),
      confidentiality: z.enum(['N', 'R', 'V']).default('N'),
      effectiveTime: isoDateTime.optional(),
      id: oid.optional(),
      setId: oid.optional(),
      versionNumber: z.number().int().positive().optional(),
      replaces: oid.optional(),
      orderId: z.object({ root: oid, extension: z.string().min(1) }).optional(),
      accessionNumber: z.object({ root: oid, extension: z.string().min(1) }).optional(),
    })
    .strict()
    .refine((d) => !!d.pdf !== (d.text !== undefined), { message: 'le corps est soit "pdf" (chemin du fichier), soit "text"', path: ['pdf'] }),
});

export type CdaRequest = z.infer<typeof cdaRequestSchema>;
export type CdaRequestInput = z.input<typeof cdaRequestSchema>;

export function parseCdaRequest(json: unknown): CdaRequest {
  const r = cdaRequestSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join('.') || '(racine)'} : ${i.message}`);
    throw new AppError('CDA_REQUEST_INVALID', `La demande de document est incomplète ou invalide : ${issues[0]}`, issues.join('; '));
  }
  const req = r.data;
  if (req.patient.ins && !req.patient.insQualified && !req.patient.ipp) {
    throw new AppError(
      'CDA_REQUEST_INVALID',
      "L'INS du patient n'est pas qualifiée : elle ne peut pas figurer dans le document. Indiquez un IPP ou qualifiez l'INS.",
      'patient.insQualified=false and no patient.ipp',
    );
  }
  if (!req.patient.ins && !req.patient.ipp) {
    throw new AppError('CDA_REQUEST_INVALID', 'Le patient doit avoir une INS qualifiée ou un IPP.', 'patient: neither ins nor ipp');
  }
  return req;
}

export function loadCdaRequest(file: string): { request: CdaRequest; baseDir: string } {
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new AppError('CDA_REQUEST_UNREADABLE', `Impossible de lire la demande ${path.basename(file)}.`, (err as Error).message);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (err) {
    throw new AppError('CDA_REQUEST_INVALID', "La demande n'est pas un JSON valide.", (err as Error).message);
  }
  return { request: parseCdaRequest(json), baseDir: path.dirname(path.resolve(file)) };
}
