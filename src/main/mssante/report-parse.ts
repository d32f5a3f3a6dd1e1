import type { MimeMessage } from './mime-read';

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

export function parseReport(mail: MimeMessage): ReportStatus | undefined {
  const ct = mail.contentType;
  if (ct.value !== 'multipart/report') return undefined;
  const type = (ct.params['report-type'] ?? '').toLowerCase();
  const part = (mime: string) => mail.parts.find((a) => a.contentType === mime);
  const headersPart = part('text/rfc822-headers') ?? part('message/rfc822');
  const originalFromHeaders = headersPart ? fields(headersPart.content.toString('utf8')).get('message-id') : undefined;
  const inReplyTo = mail.inReplyTo ?? undefined;
  if (type === 'disposition-notification') {
    const p = part('message/disposition-notification');
    const body = p?.content.toString('utf8');
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
    const text = p?.content.toString('utf8') ?? '';
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
