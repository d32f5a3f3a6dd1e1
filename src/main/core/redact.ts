/**
 * Redaction of secrets and clinical content before anything is logged or written to the audit trail.
 * Keys are matched case-insensitively on their name.
 */
const SECRET_KEY = /(pin|password|passwd|secret|token|authorization|cookie|assertion|private|privkey|p12|pfx|body|content|document|attachment|pdf|base64|signature_value)/i;

export const REDACTED = '[masqué]';

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1));
  if (value && typeof value === 'object') {
    if (value instanceof Date) return value.toISOString();
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.byteLength} octets]`;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      out[k] = SECRET_KEY.test(k) ? REDACTED : redact(v, depth + 1);
    }
    return out;
  }
  if (typeof value === 'string') {
    // Bearer tokens and JWTs that slipped into free text.
    return value
      .replace(/Bearer\s+[A-Za-z0-9\-._~+/]+=*/g, `Bearer ${REDACTED}`)
      .replace(/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g, REDACTED)
      .slice(0, 2000);
  }
  return value;
}
