import { z } from 'zod';
import type { MethodDef } from './types';

/**
 * Settings screen: the production configuration the user enters (PKCS#11 module, DMP endpoint and structure
 * certificates, trust store, PSC registration, X-MSS-NIL). Secrets (the .p12 password, the PSC client secret)
 * go in, never come back: the view only says whether one is set.
 */
const FilePath = z.string().trim().min(1).max(1024);

export const CertificateSummary = z.object({
  subject: z.string(),
  issuer: z.string(),
  notAfter: z.string(),
  expired: z.boolean(),
  /** Structure id (OU of the ORG certificate), when present. */
  structureId: z.string().optional(),
});

export const ConfigView = z.object({
  pkcs11: z.object({
    /** The module path entered by the user (setting). */
    module: z.string().optional(),
    /** The module the card service uses now, and why. */
    effective: z.string().optional(),
    source: z.enum(['sandbox', 'setting', 'default', 'missing']),
    problem: z.string().optional(),
  }),
  dmp: z.object({
    url: z.string().optional(),
    authP12: z.string().optional(),
    signP12: z.string().optional(),
    passwordSet: z.boolean(),
    auth: CertificateSummary.optional(),
    sign: CertificateSummary.optional(),
  }),
  trust: z.object({ caFiles: z.array(z.string()), crlFiles: z.array(z.string()) }),
  psc: z.object({ issuer: z.string().optional(), clientId: z.string().optional(), secretSet: z.boolean() }),
  nil: z.string(),
  /** What the running sandbox provides instead (sandbox profile), for the user's information. */
  sandbox: z.object({ running: z.boolean(), dmpUrl: z.string().optional(), caCert: z.string().optional(), pkcs11Module: z.string().optional(), pscIssuer: z.string().optional() }),
});
export type ConfigView = z.infer<typeof ConfigView>;

export const configMethods = {
  'config.get': {
    summary: 'The settings as the settings screen shows them (secrets only as "set / not set").',
    input: z.object({}).strict(),
    output: ConfigView,
  },
  'config.pkcs11.set': {
    summary: 'PKCS#11 module of the CPS middleware (absolute path to a .so/.dll/.dylib); null = per-OS default.',
    input: z.object({ module: FilePath.nullable() }).strict(),
    output: ConfigView,
  },
  'config.dmp.set': {
    summary: 'DMP endpoint (https) and structure certificates (.p12 auth + signature); the password is checked, encrypted and never returned.',
    input: z
      .object({
        url: z.string().trim().min(1).max(2048),
        authP12: FilePath,
        signP12: FilePath,
        /** Omitted: keep the stored password. */
        password: z.string().min(1).max(256).optional(),
      })
      .strict(),
    output: ConfigView,
  },
  'config.trust.set': {
    summary: 'Trust store: CA certificate files (PEM) and CRL files (PEM or DER).',
    input: z.object({ caFiles: z.array(FilePath).max(50), crlFiles: z.array(FilePath).max(50) }).strict(),
    output: ConfigView,
  },
  'config.psc.set': {
    summary: 'Pro Santé Connect registration of the production profile (issuer, client id, optional secret).',
    input: z.object({ issuer: z.string().trim().min(1).max(2048), clientId: z.string().trim().min(1).max(200), clientSecret: z.string().min(1).max(500).optional() }).strict(),
    output: ConfigView,
  },
  'config.nil.set': {
    summary: 'The software identifier sent in X-MSS-NIL.',
    input: z.object({ nil: z.string().max(200) }).strict(),
    output: ConfigView,
  },
} satisfies Record<string, MethodDef>;
