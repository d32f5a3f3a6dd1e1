import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { AppError } from '../core/errors';
import { CredentialProvider, isAuthFailure, tlsOptions, type Credentials, type MailAccountConfig, type MailTrust } from './accounts';

/**
 * IMAP and SMTP sessions for one account: STARTTLS always (TLS verified against the trust store), SASL
 * XOAUTH2/OAUTHBEARER with the PSC token (imapflow prefers OAUTHBEARER when both are offered), and ONE
 * silent retry with a fresh token when the server refuses the current one (expired, revoked, or the
 * operator ended the session).
 */
export interface MailContext {
  trust: MailTrust;
  credentials: CredentialProvider;
  /** Called on every (re)authentication, for the audit trail (never with the token). */
  onAuth?: (account: string, event: { protocol: 'imap' | 'smtp'; outcome: 'success' | 'retry' | 'failure'; method: string; detail?: string }) => void;
}

function imapAuth(c: Credentials): { user: string; pass?: string; accessToken?: string } {
  return 'accessToken' in c ? { user: c.user, accessToken: c.accessToken } : { user: c.user, pass: c.pass };
}

function methodOf(c: Credentials): string {
  return 'accessToken' in c ? 'oauth' : 'password';
}

export function connectionError(account: MailAccountConfig, protocol: 'IMAP' | 'SMTP', err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { code?: string; message?: string; responseText?: string };
  const text = `${protocol} ${account.imap.host}: ${e.code ?? ''} ${e.responseText ?? e.message ?? String(err)}`.trim();
  if (isAuthFailure(err)) {
    return new AppError('MSS_AUTH_FAILED', "Le serveur de messagerie a refusé l'authentification : reconnectez-vous (Pro Santé Connect ou certificat).", text);
  }
  if (/certificate|self[- ]signed|CERT_|UNABLE_TO_VERIFY|ERR_TLS/i.test(`${e.code} ${e.message}`)) {
    return new AppError('MSS_TLS_UNTRUSTED', "Le certificat du serveur de messagerie n'est pas reconnu : la connexion a été refusée.", text);
  }
  return new AppError('MSS_UNREACHABLE', 'Le serveur de messagerie est injoignable. Les envois restent en attente et repartiront automatiquement.', text);
}

export async function openImap(account: MailAccountConfig, ctx: MailContext, opts: { fresh?: boolean } = {}): Promise<ImapFlow> {
  const attempt = async (fresh: boolean) => {
    const creds = await ctx.credentials.credentials(account, { fresh });
    const client = new ImapFlow({
      host: account.imap.host,
      port: account.imap.port,
      secure: false,
      doSTARTTLS: true,
      auth: imapAuth(creds),
      tls: tlsOptions(account, ctx.trust),
      logger: false,
      disableAutoIdle: true,
      clientInfo: { name: 'Compagnon LPS' },
      connectionTimeout: 20_000,
      greetingTimeout: 10_000,
      socketTimeout: 5 * 60_000,
    });
    client.on('error', () => {
      /* surfaced through the failing command or 'close' */
    });
    await client.connect();
    ctx.onAuth?.(account.address, { protocol: 'imap', outcome: 'success', method: methodOf(creds) });
    return client;
  };
  try {
    return await attempt(!!opts.fresh);
  } catch (err) {
    if (isAuthFailure(err) && account.auth === 'psc' && ctx.credentials.hasTokenSource()) {
      ctx.onAuth?.(account.address, { protocol: 'imap', outcome: 'retry', method: 'oauth', detail: 'token refused: refreshing' });
      try {
        return await attempt(true);
      } catch (err2) {
        const e2 = connectionError(account, 'IMAP', err2);
        ctx.onAuth?.(account.address, { protocol: 'imap', outcome: 'failure', method: 'oauth', detail: `${e2.code}: ${e2.detail ?? ''}`.slice(0, 200) });
        throw e2;
      }
    }
    ctx.onAuth?.(account.address, { protocol: 'imap', outcome: 'failure', method: account.auth });
    throw connectionError(account, 'IMAP', err);
  }
}

export interface SmtpSend {
  from: string;
  to: string[];
  raw: Buffer;
  dsn?: { id: string; notify: ('success' | 'failure' | 'delay')[] };
}

export async function smtpSend(account: MailAccountConfig, ctx: MailContext, msg: SmtpSend): Promise<{ response: string; accepted: string[]; rejected: string[] }> {
  const attempt = async (fresh: boolean) => {
    const creds = await ctx.credentials.credentials(account, { fresh });
    const transport = nodemailer.createTransport({
      host: account.smtp.host,
      port: account.smtp.port,
      secure: false,
      requireTLS: true,
      auth: 'accessToken' in creds ? { type: 'OAuth2', user: creds.user, accessToken: creds.accessToken } : { user: creds.user, pass: creds.pass },
      tls: { ...tlsOptions({ ...account, imap: account.smtp }, ctx.trust) },
      connectionTimeout: 20_000,
      greetingTimeout: 10_000,
      socketTimeout: 60_000,
      logger: false,
    });
    try {
      const info = await transport.sendMail({
        envelope: { from: msg.from, to: msg.to },
        raw: msg.raw,
        ...(msg.dsn ? { dsn: { id: msg.dsn.id, return: 'headers', notify: msg.dsn.notify, recipient: msg.from } } : {}),
      });
      ctx.onAuth?.(account.address, { protocol: 'smtp', outcome: 'success', method: methodOf(creds) });
      return { response: String(info.response ?? ''), accepted: (info.accepted ?? []).map(String), rejected: (info.rejected ?? []).map(String) };
    } finally {
      transport.close();
    }
  };
  try {
    return await attempt(false);
  } catch (err) {
    if (isAuthFailure(err) && account.auth === 'psc' && ctx.credentials.hasTokenSource()) {
      ctx.onAuth?.(account.address, { protocol: 'smtp', outcome: 'retry', method: 'oauth', detail: 'token refused: refreshing' });
      try {
        return await attempt(true);
      } catch (err2) {
        throw smtpError(account, err2);
      }
    }
    throw smtpError(account, err);
  }
}

function smtpError(account: MailAccountConfig, err: unknown): AppError {
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
  if (e.responseCode && e.responseCode >= 500 && !isAuthFailure(err)) {
    return new AppError('MSS_REJECTED', 'Le serveur de messagerie a refusé le message (destinataire ou contenu).', `SMTP ${e.responseCode} ${e.response ?? e.message ?? ''}`.slice(0, 500));
  }
  return connectionError({ ...account, imap: account.smtp }, 'SMTP', err);
}

/** Permanent SMTP refusals are not retried; network errors and 4xx are. */
export function isPermanent(err: unknown): boolean {
  return err instanceof AppError && (err.code === 'MSS_REJECTED' || err.code === 'MSS_NO_SECRET' || err.code === 'MSS_NO_CLIENT_CERT');
}
