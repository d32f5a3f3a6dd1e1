import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { dmpError } from './faults';

/** HTTPS with client-certificate authentication, timeouts everywhere, and the homologation exchange log. */

export interface TlsIdentity {
  /** PEM client certificate (+ chain) and key: software ORG certificate. */
  cert?: string;
  key?: string;
  /** Trust store for the DMP server (PEM). Verification is always on. */
  ca: string;
  /**
   * Other client-identity options, e.g. the identity capability's `TlsIdentity.tlsOptions()` for a CPS card through
   * the OpenSSL pkcs11 engine (`privateKeyEngine`/`privateKeyIdentifier` + `cert`), or `pfx`/`passphrase`.
   */
  options?: import('node:tls').ConnectionOptions;
}

export interface HttpResult {
  status: number;
  contentType: string;
  body: Buffer;
}

export class TimeoutError extends Error {
  constructor(
    message: string,
    /** Whether the request may have reached the server (request written before the timeout). */
    readonly sent: boolean,
  ) {
    super(message);
  }
}

export class NetworkError extends Error {
  constructor(
    message: string,
    readonly sent: boolean,
    readonly tls: boolean,
  ) {
    super(message);
  }
}

export interface PostOptions {
  url: string;
  contentType: string;
  body: Buffer | string;
  tls: TlsIdentity;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  maxResponseBytes?: number;
}

export function post(opts: PostOptions): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(opts.url);
    if (u.protocol !== 'https:') {
      reject(dmpError('DMP_NOT_CONFIGURED', `the DMP URL must be https: ${opts.url}`));
      return;
    }
    let sent = false;
    let settled = false;
    const done = (fn: () => void): void => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        fn();
      }
    };
    const req = https.request(
      {
        method: 'POST',
        hostname: u.hostname,
        port: u.port || 443,
        path: u.pathname + u.search,
        headers: { 'Content-Type': opts.contentType, 'Content-Length': Buffer.byteLength(opts.body) },
        ...(opts.tls.options ?? {}),
        ...(opts.tls.cert ? { cert: opts.tls.cert } : {}),
        ...(opts.tls.key ? { key: opts.tls.key } : {}),
        ca: opts.tls.ca,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let total = 0;
        res.on('data', (c: Buffer) => {
          total += c.length;
          if (total > (opts.maxResponseBytes ?? 200 * 1024 * 1024)) {
            req.destroy(new Error('response too large'));
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => done(() => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) })));
        res.on('error', (err) => done(() => reject(new NetworkError(err.message, true, false))));
      },
    );
    const timer = setTimeout(() => {
      done(() => reject(new TimeoutError(`no complete answer within ${opts.requestTimeoutMs} ms`, sent)));
      req.destroy();
    }, opts.requestTimeoutMs);
    req.on('socket', (s) => {
      const ct = setTimeout(() => {
        if (!sent) {
          done(() => reject(new TimeoutError(`connection not established within ${opts.connectTimeoutMs} ms`, false)));
          req.destroy();
        }
      }, opts.connectTimeoutMs);
      s.once('secureConnect', () => clearTimeout(ct));
      s.once('close', () => clearTimeout(ct));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      const tls = /certificate|SSL|TLS|self.signed|unable to verify|alert/i.test(`${err.code ?? ''} ${err.message}`);
      done(() => reject(new NetworkError(`${err.code ?? ''} ${err.message}`.trim(), sent, tls)));
    });
    req.end(opts.body, () => {
      sent = true;
    });
  });
}

/**
 * The homologation evidence: each exchange as two files (request, response) under the log directory, root SOAP
 * part only. Secrets are redacted: the VIHF signature value (the assertion is a bearer token while valid);
 * documents never appear (MTOM parts are summarized by size and digest; inline Document content is emptied).
 */
export class ExchangeLog {
  constructor(private readonly dir: string | undefined) {}

  write(action: string, messageId: string, direction: 'request' | 'response', envelopeXml: string, attachments: { cid: string; data: Buffer }[] = []): string | undefined {
    if (!this.dir) return undefined;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const short = action.split(/[:/]/).pop() ?? 'action';
    const file = path.join(this.dir, `${stamp}_${short}_${messageId.replace(/^urn:uuid:/, '').slice(0, 8)}_${direction}.xml`);
    fs.writeFileSync(file, redactEnvelope(envelopeXml, attachments), { mode: 0o600 });
    return file;
  }
}

export function redactEnvelope(xml: string, attachments: { cid: string; data: Buffer }[] = []): string {
  const byCid = new Map(attachments.map((a) => [a.cid, a.data]));
  return (
    xml
      // VIHF signature value
      .replace(/(<(\w+:)?SignatureValue[^>]*>)[^<]*(<\/(\w+:)?SignatureValue>)/g, '$1[masqué]$3')
      // MTOM parts: keep the Document element empty (still schema-valid), describe the part in a comment.
      .replace(/(<(\w+:)?Document\b[^>]*>)\s*<(\w+:)?Include\b[^>]*href="cid:([^"]*)"[^>]*\/>\s*(<\/(\w+:)?Document>)/g, (_m, open: string, _p, _q, cid: string, close: string) => {
        const data = byCid.get(decodeURIComponent(cid));
        const note = data ? `${data.length} octets, sha256=${crypto.createHash('sha256').update(data).digest('hex')}` : 'partie MIME';
        return `${open}${close}<!-- contenu retiré du journal (${note}) -->`;
      })
      // Inline base64 document content
      .replace(/(<(\w+:)?Document\b[^>]*>)[A-Za-z0-9+/=\s]{16,}(<\/(\w+:)?Document>)/g, '$1$3<!-- contenu retiré du journal -->')
  );
}
