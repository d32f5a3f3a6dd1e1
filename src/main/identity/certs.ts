import { X509Certificate } from 'node:crypto';

/** What the UI and the traces show about a certificate (never key material). */
export interface CertInfo {
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
}

export function certInfo(cert: X509Certificate | string): CertInfo {
  const c = typeof cert === 'string' ? new X509Certificate(cert) : cert;
  return {
    subject: oneLine(c.subject),
    issuer: oneLine(c.issuer),
    serialNumber: c.serialNumber,
    notBefore: new Date(c.validFrom).toISOString(),
    notAfter: new Date(c.validTo).toISOString(),
    fingerprint256: c.fingerprint256,
  };
}

/** Node prints a DN one RDN per line; keep it on one line, most significant last like OpenSSL. */
export function oneLine(dn: string): string {
  return dn.split('\n').filter(Boolean).join(', ');
}

/** The PEM blocks of a bundle file, in order. */
export function splitPem(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\s*/g)?.map((s) => s.trim() + '\n') ?? [];
}

export function splitCrlPem(text: string): string[] {
  return text.match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----\s*/g)?.map((s) => s.trim() + '\n') ?? [];
}
