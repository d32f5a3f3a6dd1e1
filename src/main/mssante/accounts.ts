import fs from 'node:fs';
import type tls from 'node:tls';
import { z } from 'zod';
import { AppError } from '../core/errors';

/**
 * MSSanté mailboxes (BAL) the app can use, and how to reach and authenticate them.
 * - PER / ORG: SASL XOAUTH2 / OAUTHBEARER with the Pro Santé Connect access token (or, in the sandbox
 *   only, a test password when no PSC session exists);
 * - APP: TLS client certificate (ORG "AUTH_CLI") + the mailbox secret.
 * Server certificates are always verified against the configured trust store (never disabled).
 */
export const Endpoint = z.object({ host: z.string().min(1), port: z.number().int().min(1).max(65535) });

export const ClientCertificate = z.union([
  z.object({ p12: z.string(), p12Password: z.string() }),
  z.object({ cert: z.string(), key: z.string() }),
]);

export const MailAccountConfig = z
  .object({
    address: z.string().email().transform((a) => a.toLowerCase()),
    kind: z.enum(['PER', 'ORG', 'APP']),
    displayName: z.string().optional(),
    imap: Endpoint,
    smtp: Endpoint,
    /** `psc`: access token; `password`: sandbox test login; `client-cert`: APP. */
    auth: z.enum(['psc', 'password', 'client-cert']),
    /** Sandbox test secret (passwd-file login); never set in production. */
    password: z.string().optional(),
    clientCertificate: ClientCertificate.optional(),
    /** The practitioner whose PSC token opens this mailbox (national id), for PER/ORG. */
    pscSubject: z.string().optional(),
    /** True for accounts of the local sandbox (configured table, loopback servers). */
    sandbox: z.boolean().default(false),
  })
  .loose();
export type MailAccountConfig = z.infer<typeof MailAccountConfig>;

export interface MailTrust {
  /** PEM files of the trust anchors (IGC Santé in production; the sandbox CA in tests). */
  caFiles: string[];
  crlFiles?: string[];
}

export function tlsOptions(account: MailAccountConfig, trust: MailTrust): tls.ConnectionOptions {
  if (!trust.caFiles.length) {
    throw new AppError('MSS_NO_TRUST_STORE', "Aucun certificat d'autorité n'est configuré pour vérifier le serveur de messagerie.", 'empty trust store');
  }
  const opts: tls.ConnectionOptions = {
    ca: trust.caFiles.map((f) => fs.readFileSync(f)),
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    // Loopback sandbox servers present a certificate for localhost / 127.0.0.1.
    servername: isIpLiteral(account.imap.host) ? undefined : account.imap.host,
  };
  if (trust.crlFiles?.length) {
    // One entry per CRL: a concatenated PEM file would only contribute its first CRL.
    opts.crl = trust.crlFiles.flatMap((f) => fs.readFileSync(f, 'latin1').match(/-----BEGIN X509 CRL-----[\s\S]+?-----END X509 CRL-----/g) ?? []);
  }
  const cc = account.clientCertificate;
  if (cc) {
    if ('p12' in cc) {
      opts.pfx = fs.readFileSync(cc.p12);
      opts.passphrase = cc.p12Password;
    } else {
      opts.cert = fs.readFileSync(cc.cert);
      opts.key = fs.readFileSync(cc.key);
    }
  } else if (account.auth === 'client-cert') {
    throw new AppError('MSS_NO_CLIENT_CERT', "La boîte applicative n'a pas de certificat client configuré.", account.address);
  }
  return opts;
}

export function isIpLiteral(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(h) || h.includes(':');
}

/** Credentials for one connection attempt. */
export type Credentials = { user: string; pass: string } | { user: string; accessToken: string };

/** Supplies the PSC access token; `fresh` forces a refresh (after the server refused or dropped it). */
export type TokenSource = (account: MailAccountConfig, opts: { fresh: boolean }) => Promise<string>;

/**
 * A token source over a Pro Santé Connect session (the identity capability's `PscClient`): the current
 * access token (refreshed ahead of expiry by the client), or — `fresh`, after the mail server refused it
 * (expired, revoked, session ended by the operator) — a newly refreshed one.
 */
export function pscTokenSource(client: { accessToken(): Promise<string>; refresh(): Promise<void> }): TokenSource {
  return async (_account, opts) => {
    if (opts.fresh) await client.refresh();
    return client.accessToken();
  };
}

export class CredentialProvider {
  constructor(private readonly tokenSource?: TokenSource) {}

  async credentials(account: MailAccountConfig, opts: { fresh: boolean } = { fresh: false }): Promise<Credentials> {
    switch (account.auth) {
      case 'psc': {
        if (this.tokenSource) {
          const accessToken = await this.tokenSource(account, opts);
          return { user: account.address, accessToken };
        }
        if (account.sandbox && account.password) return { user: account.address, pass: account.password };
        throw new AppError('MSS_PSC_REQUIRED', 'Connectez-vous avec Pro Santé Connect pour ouvrir cette boîte aux lettres.', `${account.address}: no PSC session`);
      }
      case 'password':
        if (!account.password) throw new AppError('MSS_NO_SECRET', "Le secret de cette boîte aux lettres n'est pas configuré.", account.address);
        return { user: account.address, pass: account.password };
      case 'client-cert':
        if (!account.password) throw new AppError('MSS_NO_SECRET', "Le secret de la boîte applicative n'est pas configuré.", account.address);
        return { user: account.address, pass: account.password };
    }
  }

  hasTokenSource(): boolean {
    return !!this.tokenSource;
  }
}

/** Authentication failures that a fresh token may fix (expired token, session dropped by the operator). */
export function isAuthFailure(err: unknown): boolean {
  const e = err as { authenticationFailed?: boolean; code?: string; responseCode?: number; serverResponseCode?: string };
  return !!(e && (e.authenticationFailed || e.code === 'EAUTH' || e.serverResponseCode === 'AUTHENTICATIONFAILED' || e.responseCode === 535));
}
