import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import * as x509 from '@peculiar/x509';
import { AppError } from '../../core/errors';
import { oneLine, splitCrlPem, splitPem } from '../certs';

/**
 * The configurable set of trusted CAs (IGC Santé in production, the sandbox CA in the sandbox) and their
 * CRLs. Used for TLS (Node `ca`/`crl`: verification always on, CRLs enforced when configured) and to check
 * the certificate of an XML signature (chain, validity dates, revocation).
 */
export class TrustStore {
  private readonly anchors: X509Certificate[];
  private readonly crlCache = new Map<string, x509.X509Crl[]>();

  constructor(
    readonly caPems: string[],
    readonly crlPems: string[] = [],
  ) {
    if (caPems.length === 0) throw new AppError('TRUST_STORE_EMPTY', "Aucune autorité de certification de confiance n'est configurée.", 'empty CA set');
    this.anchors = caPems.map((p) => new X509Certificate(p));
  }

  static fromFiles(opts: { caFiles: string[]; crlFiles?: string[] }): TrustStore {
    const read = (f: string) => {
      try {
        return fs.readFileSync(f, 'utf8');
      } catch (err) {
        throw new AppError('TRUST_STORE_FILE', `Le fichier de confiance est introuvable : ${f}`, (err as Error).message);
      }
    };
    return new TrustStore(
      opts.caFiles.flatMap((f) => splitPem(read(f))),
      (opts.crlFiles ?? []).flatMap((f) => splitCrlPem(read(f))),
    );
  }

  /** The sandbox trust store from the profile's `pki` section. */
  static fromProfile(pki: { caBundle?: string; caCert: string; crl?: string }, opts: { withCrl?: boolean } = {}): TrustStore {
    return TrustStore.fromFiles({ caFiles: [pki.caBundle ?? pki.caCert], crlFiles: opts.withCrl !== false && pki.crl ? [pki.crl] : [] });
  }

  get hasCrls(): boolean {
    return this.crlPems.length > 0;
  }

  /** Node TLS options: only these CAs are trusted; with CRLs, OpenSSL checks every certificate of the chain. */
  tlsOptions(): Pick<tls.ConnectionOptions, 'ca' | 'crl' | 'rejectUnauthorized'> {
    return { ca: this.caPems, ...(this.crlPems.length ? { crl: this.crlPems } : {}), rejectUnauthorized: true };
  }

  /**
   * Checks a certificate chain (PEM, leaf first; extra certificates may be intermediates) up to a trusted CA:
   * signatures, validity at `at` (default now) and, when CRLs are configured, revocation. Throws AppError
   * CERT_UNTRUSTED / CERT_EXPIRED / CERT_NOT_YET_VALID / CERT_REVOKED / CRL_MISSING / CRL_EXPIRED.
   */
  async check(chainPem: string[], at: Date = new Date()): Promise<void> {
    const [leafPem, ...others] = chainPem;
    if (!leafPem) throw new AppError('CERT_UNTRUSTED', "Aucun certificat n'a été présenté.", 'empty chain');
    const pool = [...others.map((p) => new X509Certificate(p)), ...this.anchors];
    let current = new X509Certificate(leafPem);
    // Build the whole path to a trust anchor first, then check revocation along it.
    const path: [X509Certificate, X509Certificate][] = [];
    for (let depth = 0; ; depth++) {
      if (depth >= 10) throw new AppError('CERT_UNTRUSTED', 'La chaîne de certification est trop longue.', 'chain depth > 10');
      checkDates(current, at);
      if (this.anchors.some((a) => a.fingerprint256 === current.fingerprint256)) break; // a trusted CA
      const issuer = pool.find((c) => c.fingerprint256 !== current.fingerprint256 && current.checkIssued(c) && current.verify(c.publicKey));
      if (!issuer) {
        throw new AppError('CERT_UNTRUSTED', "Le certificat n'est pas émis par une autorité de confiance.", `no trusted issuer for ${oneLine(current.subject)} (issuer ${oneLine(current.issuer)})`);
      }
      path.push([current, issuer]);
      current = issuer;
    }
    if (this.crlPems.length) for (const [cert, issuer] of path) await this.checkRevocation(cert, issuer, at);
  }

  private async checkRevocation(cert: X509Certificate, issuer: X509Certificate, at: Date): Promise<void> {
    const crls = await this.crlsOf(issuer);
    if (crls.length === 0) {
      throw new AppError('CRL_MISSING', "La liste de révocation de l'autorité de certification n'est pas disponible.", `no CRL for ${oneLine(issuer.subject)}`);
    }
    const current = crls.filter((c) => !c.nextUpdate || c.nextUpdate.getTime() >= at.getTime());
    if (current.length === 0) {
      throw new AppError('CRL_EXPIRED', "La liste de révocation de l'autorité de certification est périmée.", `CRL of ${oneLine(issuer.subject)} expired`);
    }
    const serial = cert.serialNumber.toLowerCase().replace(/^0+/, '');
    for (const crl of current) {
      const entry = crl.entries.find((e) => e.serialNumber.toLowerCase().replace(/^0+/, '') === serial);
      if (entry && entry.revocationDate.getTime() <= at.getTime()) {
        throw new AppError('CERT_REVOKED', 'Le certificat a été révoqué.', `${oneLine(cert.subject)} serial ${cert.serialNumber} revoked on ${entry.revocationDate.toISOString()}`);
      }
    }
  }

  private async crlsOf(issuer: X509Certificate): Promise<x509.X509Crl[]> {
    const cached = this.crlCache.get(issuer.fingerprint256);
    if (cached) return cached;
    const pub = new x509.X509Certificate(issuer.raw);
    const out: x509.X509Crl[] = [];
    for (const pem of this.crlPems) {
      const crl = new x509.X509Crl(pem);
      try {
        if (await crl.verify({ publicKey: pub }, globalThis.crypto as Crypto)) out.push(crl);
      } catch {
        /* another CA's CRL */
      }
    }
    this.crlCache.set(issuer.fingerprint256, out);
    return out;
  }
}

function checkDates(cert: X509Certificate, at: Date): void {
  if (new Date(cert.validFrom).getTime() > at.getTime()) {
    throw new AppError('CERT_NOT_YET_VALID', "Le certificat n'est pas encore valide.", `${oneLine(cert.subject)} valid from ${cert.validFrom}`);
  }
  if (new Date(cert.validTo).getTime() < at.getTime()) {
    throw new AppError('CERT_EXPIRED', 'Le certificat a expiré.', `${oneLine(cert.subject)} expired on ${cert.validTo}`);
  }
}
