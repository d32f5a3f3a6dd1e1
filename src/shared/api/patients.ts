import { z } from 'zod';
import type { MethodDef } from './types';

/** INS matricule: NIR (13 digits + 2-digit key) or NIA; Corsican departments 2A/2B accepted. */
export const InsValue = z.string().regex(/^[0-9]{15}$|^[12][0-9]{4}2[AB][0-9]{6}[0-9]{2}$/, 'INS : 15 caractères (matricule + clé)');
export const InsOid = z.enum(['1.2.250.1.213.1.4.8', '1.2.250.1.213.1.4.9', '1.2.250.1.213.1.4.10', '1.2.250.1.213.1.4.11']);

export const PatientInput = z
  .object({
    ins: InsValue.optional(),
    insOid: InsOid.optional(),
    /** Verified against the national INSi service (only then may the INS identify the patient in exchanges). */
    insQualified: z.boolean().default(false),
    birthFamily: z.string().trim().min(1).max(100),
    birthGivens: z.string().trim().max(200).optional(),
    firstGiven: z.string().trim().min(1).max(100),
    usedFamily: z.string().trim().max(100).optional(),
    usedGiven: z.string().trim().max(100).optional(),
    gender: z.enum(['M', 'F', 'U']),
    birthDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'date de naissance AAAA-MM-JJ'),
    birthPlace: z.string().regex(/^[0-9][0-9AB][0-9]{3}$|^99[0-9]{3}$/, 'code INSEE du lieu de naissance').optional(),
    ipp: z.string().trim().min(1).max(64).optional(),
    ippOid: z.string().regex(/^[0-2](\.(0|[1-9][0-9]*))+$/, 'OID').optional(),
  })
  .strict()
  .refine((p) => !!p.ins === !!p.insOid, { message: "l'INS et son OID vont ensemble", path: ['insOid'] })
  .refine((p) => !!p.ipp === !!p.ippOid, { message: "l'IPP et l'OID de l'établissement vont ensemble", path: ['ippOid'] })
  .refine((p) => !p.insQualified || !!p.ins, { message: 'une INS qualifiée suppose une INS', path: ['insQualified'] });
export type PatientInput = z.input<typeof PatientInput>;

export const Patient = z.object({
  id: z.number().int(),
  ins: z.string().nullable(),
  insOid: z.string().nullable(),
  insQualified: z.boolean(),
  birthFamily: z.string(),
  birthGivens: z.string().nullable(),
  firstGiven: z.string(),
  usedFamily: z.string().nullable(),
  usedGiven: z.string().nullable(),
  gender: z.enum(['M', 'F', 'U']),
  birthDate: z.string(),
  birthPlace: z.string().nullable(),
  ipp: z.string().nullable(),
  ippOid: z.string().nullable(),
  source: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Patient = z.infer<typeof Patient>;

export const patientsMethods = {
  'patients.list': {
    summary: 'Local patients, filtered by name / INS / IPP text.',
    input: z.object({ text: z.string().max(200).optional(), limit: z.number().int().min(1).max(500).default(100) }).strict(),
    output: z.array(Patient),
  },
  'patients.get': {
    summary: 'One local patient by id.',
    input: z.object({ id: z.number().int() }).strict(),
    output: Patient,
  },
  'patients.upsert': {
    summary: 'Creates a local patient, or updates the one with the same INS (or IPP).',
    input: PatientInput,
    output: Patient,
  },
} satisfies Record<string, MethodDef>;
