import type { ParsedMail } from 'mailparser';

/**
 * Incoming delivery and disposition reports (RFC 3464 DSN, RFC 8098 MDN): recognised in a parsed message and
 * reduced to what they say about which of our sent messages.
 */
export type ReportStatus =
  | { type: 'mdn'; originalMessageId?: string; disposition: string; state: 'integrated' | 'read' | 'failed' | 'other'; code?: string; label?: string; reporter?: string }
  | { type: 'dsn'; originalMessageId?: string; envelopeId?: string; state: 'delivered' | 'failed' | 'delayed' | 'other'; status?: string; recipient?: string };

function fields(text: string): Map<string, string> {
  const map = new Map<string, string>();
  const unfolded = text.replace(/\r?\n[ \t]+/g, ' ');
  for (const line of unfolded.split(/\r?\n/)) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (m && !map.has(m[1]!.toLowerCase())) map.set(m[1]!.toLowerCase(), m[2]!.trim());
  }
  return map;
}

/** Parses the Disposition field leniently (RFC 8098 and the PFI `processed/Error: <code>^<label>` form). */
export function parseDisposition(value: string): { state: 'integrated' | 'read' | 'failed' | 'other'; code?: string; label?: string } {
  const err = /error\s*:?\s*([0-9]{1,3})(?:\s*\^\s*(.*))?$/i.exec(value);
  if (err || /\b(failed|error)\b/i.test(value)) return { state: 'failed', code: err?.[1], label: err?.[2]?.trim() };
  const v = value.toLowerCase();
  if (/;\s*processed\b/.test(v)) return { state: 'integrated' };
  if (/;\s*displayed\b/.test(v)) return { state: 'read' };
  return { state: 'other' };
}

/** The body of the first MIME part of this type, read from the raw source (mailparser folds some into the text). */
function rawPart(raw: Buffer | undefined, mime: string): string | undefined {
  if (!raw) return undefined;
  const text = raw.toString('latin1');
  const re = new RegExp(`Content-Type:\\s*${mime.replace('/', '\\/')}[^\\r\\n]*(?:\\r?\\n[ \\t][^\\r\\n]*)*(?:\\r?\\n[A-Za-z-]+:[^\\r\\n]*)*\\r?\\n\\r?\\n([\\s\\S]*?)(?:\\r?\\n--[^\\r\\n]+|$)`, 'i');
  const m = re.exec(text);
  return m?.[1];
}

export function parseReport(mail: ParsedMail, raw?: Buffer): ReportStatus | undefined {
  const ct = mail.headers.get('content-type') as { value?: string; params?: Record<string, string> } | undefined;
  if (!ct || ct.value?.toLowerCase() !== 'multipart/report') return undefined;
  const type = (ct.params?.['report-type'] ?? '').toLowerCase();
  const part = (mime: string) => mail.attachments.find((a) => a.contentType.toLowerCase() === mime);
  const headersPart = part('text/rfc822-headers') ?? part('message/rfc822');
  const originalFromHeaders = headersPart ? fields(headersPart.content.toString('utf8')).get('message-id') : undefined;
  const inReplyTo = typeof mail.inReplyTo === 'string' ? mail.inReplyTo : undefined;
  if (type === 'disposition-notification') {
    const p = part('message/disposition-notification');
    const body = p ? p.content.toString('utf8') : rawPart(raw, 'message/disposition-notification');
    const f = body ? fields(body) : new Map<string, string>();
    const disposition = f.get('disposition') ?? '';
    const d = parseDisposition(disposition);
    return {
      type: 'mdn',
      originalMessageId: f.get('original-message-id') ?? inReplyTo ?? originalFromHeaders,
      disposition,
      ...d,
      reporter: f.get('final-recipient')?.replace(/^rfc822;\s*/i, ''),
    };
  }
  if (type === 'delivery-status') {
    const p = part('message/delivery-status') ?? part('message/global-delivery-status');
    const text = p ? p.content.toString('utf8') : (rawPart(raw, 'message/delivery-status') ?? rawPart(raw, 'message/global-delivery-status') ?? '');
    const blocks = text.split(/\r?\n\r?\n/).map(fields);
    const perMessage = blocks[0] ?? new Map<string, string>();
    const rcpt = blocks.slice(1).find((b) => b.has('action')) ?? new Map<string, string>();
    const action = (rcpt.get('action') ?? '').toLowerCase();
    const state = action === 'delivered' || action === 'relayed' || action === 'expanded' ? 'delivered' : action === 'failed' ? 'failed' : action === 'delayed' ? 'delayed' : 'other';
    return {
      type: 'dsn',
      originalMessageId: originalFromHeaders,
      envelopeId: perMessage.get('original-envelope-id'),
      state,
      status: rcpt.get('status'),
      recipient: rcpt.get('final-recipient')?.replace(/^rfc822;\s*/i, ''),
    };
  }
  return undefined;
}
