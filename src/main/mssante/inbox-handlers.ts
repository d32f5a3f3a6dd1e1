import { INBOX_SYNC_TASK, type InboxSyncSummary } from '../../shared/api/inbox';
import type { Core } from '../core/app-core';
import { AppError, toApiError } from '../core/errors';
import { documentVersions, getInboxDocument, listInboxMessages, listSentMessages } from './inbox-queries';
import type { OutboxItem } from './outbox';
import { mssanteOf } from './service';

/** Handlers of the Messagerie screens (`inbox.*`), on top of the MSSanté service. */
export function registerInboxHandlers(core: Core): void {
  const svc = () => mssanteOf(core);
  let syncing = false;

  core.registry
    .register('inbox.messages.list', (f) => listInboxMessages(core, f))
    .register('inbox.document.get', ({ id }) => getInboxDocument(core, id))
    .register('inbox.document.versions', ({ id }) => documentVersions(core, id))
    .register('inbox.sent.list', ({ account, limit }) => {
      const ids = core.db
        .prepare(`SELECT id FROM mss_outbox WHERE kind != 'mdn' ${account ? 'AND account = @account' : ''} ORDER BY created_at DESC LIMIT @limit`)
        .all({ account: account?.toLowerCase(), limit }) as { id: string }[];
      const items: OutboxItem[] = ids.map((r) => svc().outbox.get(r.id));
      return listSentMessages(core, items);
    })
    .register('inbox.sync', async ({ account }) => {
      if (syncing) throw new AppError('INBOX_SYNC_RUNNING', 'Une relève est déjà en cours : attendez sa fin.', 'inbox.sync already running');
      syncing = true;
      const accounts = account ? [svc().account(account).address] : svc().accounts().map((a) => a.address);
      const summary: InboxSyncSummary = { accounts: [] };
      let processed = 0;
      const progress = (label: string, finished = false, error?: { code: string; message: string; detail?: string }) =>
        core.events.emit('task.progress', { taskId: INBOX_SYNC_TASK, label, current: processed, finished, ...(error ? { error } : {}) });
      try {
        if (!accounts.length) throw new AppError('MSS_NO_ACCOUNT', "Aucune boîte aux lettres MSSanté n'est configurée dans le profil actif.", 'no account');
        for (const [i, address] of accounts.entries()) {
          const step = accounts.length > 1 ? ` (boîte ${i + 1} sur ${accounts.length})` : '';
          progress(`Relève de ${address}${step}…`);
          try {
            const { report, mdnsSent } = await svc().syncAccount(address, () => {
              processed++;
              progress(`Relève de ${address}${step} : ${processed} message(s) traité(s)…`);
            });
            const docs = report.messages.flatMap((m) => m.documents);
            summary.accounts.push({
              account: address,
              ok: true,
              examined: report.examined,
              integrated: docs.filter((d) => d.result === 'integrated').length,
              queued: docs.filter((d) => d.result === 'queued').length,
              rejected: docs.filter((d) => d.result === 'rejected').length + report.messages.filter((m) => m.kind === 'rejected').length,
              reports: report.messages.filter((m) => m.kind === 'report').length,
              mdnsSent: mdnsSent.length,
            });
          } catch (err) {
            const e = toApiError(err);
            summary.accounts.push({ account: address, ok: false, examined: 0, integrated: 0, queued: 0, rejected: 0, reports: 0, mdnsSent: 0, error: e });
          }
        }
        const failed = summary.accounts.filter((a) => !a.ok);
        const first = failed[0]?.error;
        progress(
          failed.length ? `Relève terminée avec ${failed.length} boîte(s) en erreur` : `Relève terminée : ${processed} message(s) traité(s)`,
          true,
          first ? { code: first.code, message: first.message, ...(first.detail ? { detail: first.detail } : {}) } : undefined,
        );
        return summary;
      } catch (err) {
        const e = toApiError(err);
        progress('Relève impossible', true, e);
        throw err;
      } finally {
        syncing = false;
      }
    });
}
