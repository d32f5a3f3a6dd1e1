import type { ReceivedDocument } from '../../shared/api/mssante';
import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { importDirectory } from './directory';
import { registerDirectoryOnlineHandlers, searchDirectoryWithOnline } from './directory-online';
import { mssanteOf } from './service';

interface DocRow {
  id: number;
  account: string;
  message_id: string | null;
  doc_root: string;
  doc_ext: string;
  set_root: string | null;
  set_ext: string | null;
  version: number | null;
  type_code: string | null;
  title: string | null;
  effective_time: string | null;
  author_id: string | null;
  author_name: string | null;
  patient_ins: string | null;
  patient_name: string | null;
  patient_birth_date: string | null;
  patient_id: number | null;
  classification: ReceivedDocument['classification'];
  status: ReceivedDocument['status'];
  error_code: string | null;
  replaces_id: number | null;
  replaced_by_id: number | null;
  deleted_at: string | null;
  pdf_name: string | null;
  received_at: string;
}

export function toReceivedDocument(r: DocRow): ReceivedDocument {
  return {
    id: r.id,
    account: r.account,
    messageId: r.message_id,
    documentId: r.doc_ext ? `${r.doc_root}^${r.doc_ext}` : r.doc_root,
    setId: r.set_root ? (r.set_ext ? `${r.set_root}^${r.set_ext}` : r.set_root) : null,
    version: r.version,
    typeCode: r.type_code,
    title: r.title,
    effectiveTime: r.effective_time,
    authorId: r.author_id,
    authorName: r.author_name,
    patientIns: r.patient_ins,
    patientName: r.patient_name,
    patientBirthDate: r.patient_birth_date,
    patientId: r.patient_id,
    classification: r.classification,
    status: r.status,
    errorCode: r.error_code,
    replacesId: r.replaces_id,
    replacedById: r.replaced_by_id,
    deletedAt: r.deleted_at,
    pdfName: r.pdf_name,
    receivedAt: r.received_at,
  };
}

export function listReceivedDocuments(core: Core, f: { account?: string; status?: string; patientId?: number; limit?: number }): ReceivedDocument[] {
  const where: string[] = [];
  const p: Record<string, unknown> = { limit: f.limit ?? 100 };
  if (f.account) (where.push('account = @account'), (p.account = f.account));
  if (f.status) (where.push('status = @status'), (p.status = f.status));
  if (f.patientId !== undefined) (where.push('patient_id = @patientId'), (p.patientId = f.patientId));
  const rows = core.db.prepare(`SELECT * FROM mss_documents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`).all(p) as DocRow[];
  return rows.map(toReceivedDocument);
}

export function registerMssanteHandlers(core: Core): void {
  const svc = () => mssanteOf(core);
  core.registry
    .register('mssante.accounts.list', () =>
      svc()
        .accounts()
        .map((a) => ({ address: a.address, kind: a.kind, displayName: a.displayName, auth: a.auth, imap: a.imap, smtp: a.smtp, sandbox: a.sandbox })),
    )
    .register('mssante.send', (input) => svc().send(input))
    .register('mssante.outbox.list', (f) => svc().outbox.list(f))
    .register('mssante.outbox.flush', ({ account }) => svc().outbox.flush({ account }))
    .register('mssante.sync', async ({ account }) => {
      const { report, mdnsSent } = await svc().syncAccount(account);
      return { ...report, messages: report.messages.map((m) => ({ ...m, report: m.report as Record<string, unknown> | undefined })), mdnsSent };
    })
    .register('mssante.mdn.read', ({ account, messageId }) => svc().readMdn(account, messageId))
    .register('mssante.documents.list', (f) => listReceivedDocuments(core, f))
    .register('mssante.documents.attach', ({ id, patientId }, ctx) => {
      const row = core.db.prepare('SELECT * FROM mss_documents WHERE id = ?').get(id) as DocRow | undefined;
      if (!row) throw new AppError('MSS_DOCUMENT_UNKNOWN', "Ce document reçu n'existe pas.", String(id));
      if (row.status !== 'queued') throw new AppError('MSS_DOCUMENT_NOT_QUEUED', "Ce document n'est pas en attente de rattachement.", `status ${row.status}`);
      const patient = svc().patients.get(patientId);
      core.db.prepare(`UPDATE mss_documents SET status = 'integrated', patient_id = ?, error_code = NULL WHERE id = ?`).run(patient.id, id);
      core.audit.append({ actor: 'utilisateur', action: 'mssante.document.attached', subject: row.doc_ext ? `${row.doc_root}^${row.doc_ext}` : row.doc_root, outcome: 'success', details: { rowId: id, patientId, transport: ctx.transport } });
      return toReceivedDocument(core.db.prepare('SELECT * FROM mss_documents WHERE id = ?').get(id) as DocRow);
    })
    .register('mssante.directory.search', (q) => searchDirectoryWithOnline(core, q))
    .register('mssante.directory.import', async ({ file }) => {
      const r = await importDirectory(core.db, file);
      core.audit.append({ actor: 'utilisateur', action: 'mssante.directory.import', subject: file, outcome: 'success', details: { rows: r.rows, skipped: r.skipped } });
      return r;
    });
  registerDirectoryOnlineHandlers(core);
}
