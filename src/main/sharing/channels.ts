import type { Core } from '../core/app-core';
import { AppError } from '../core/errors';
import { mssanteOf } from '../mssante/service';
import type { OutboxItem } from '../mssante/outbox';
import type { ShareChannel } from './share-runner';
import type { ShareJob } from './share-jobs';

/** What a share job keeps (no document body: the CDA lives in the encrypted blob store). */
export interface ShareRequest {
  cdaBlob: string;
  documentId: string;
  patientName: string;
  mssante?: {
    from: string;
    to: string[];
    cc: string[];
    toPatient: boolean;
    closePatientChannel: boolean;
    subject: string;
    body: string;
    ack: { delivery: boolean; read: boolean };
  };
  dmp?: { masking: { maskPs: boolean; invisiblePatient: boolean; invisibleLegalReps: boolean } };
}

export function requestOf(job: ShareJob): ShareRequest {
  return job.request as unknown as ShareRequest;
}

/** The outbox id of a share's message: deterministic, so a retry finds the message instead of queuing another. */
export function outboxIdOf(jobId: string): string {
  return `share-${jobId}`;
}

function outboxItem(core: Core, id: string): OutboxItem | undefined {
  try {
    return mssanteOf(core).outbox.get(id);
  } catch (err) {
    if ((err as AppError).code === 'MSS_OUTBOX_NOT_FOUND') return undefined;
    throw err;
  }
}

function sentOrThrow(item: OutboxItem): Record<string, string> {
  if (item.status === 'sent') return { outboxId: item.id, messageId: item.messageId, sentAt: item.sentAt ?? '' };
  const detail = item.lastError ?? `outbox status ${item.status}`;
  if (item.status === 'failed') throw new AppError('SHARE_MSS_REFUSED', "Le serveur de messagerie a refusé le message. Vérifiez les destinataires.", detail);
  throw new AppError('SHARE_MSS_NOT_SENT', "Le message n'a pas pu partir (serveur de messagerie injoignable). Il est conservé : reprenez l'envoi.", detail);
}

/**
 * MSSanté (TM3.2C) through the persistent outbox. The message is queued under the share's own outbox id;
 * a retry (resume, crash) never queues it again: it flushes the queued message, or reports it sent.
 */
export function mssanteChannel(core: Core): ShareChannel {
  return {
    id: 'mssante',
    label: 'Messagerie sécurisée',
    async run(job, ctx) {
      const req = requestOf(job);
      const m = req.mssante;
      if (!m) throw new AppError('SHARE_NO_MSSANTE', 'Aucun destinataire de messagerie pour ce partage.', job.id);
      const svc = mssanteOf(core);
      const id = outboxIdOf(job.id);
      let item = outboxItem(core, id);
      if (item?.status === 'sent') return sentOrThrow(item);
      ctx.progress(0, 3);
      if (!item) {
        item = await svc.send({
          from: m.from,
          to: m.to,
          cc: m.cc,
          cdaBytes: [core.blobs.get(req.cdaBlob)],
          subject: m.subject,
          body: m.body,
          ack: m.ack,
          toPatient: m.toPatient,
          closePatientChannel: m.closePatientChannel,
          outboxId: id,
          sendNow: false,
        });
      }
      ctx.note({ outboxId: item.id, messageId: item.messageId });
      ctx.progress(1, 3);
      // A message waiting for its backoff is flushed now: the user asked for it (resume).
      const [sent] = await svc.outbox.flush({ ids: [id], now: new Date(Date.now() + 24 * 3600_000) });
      ctx.progress(2, 3);
      return sentOrThrow(sent ?? svc.outbox.get(id));
    },
  };
}

/**
 * DMP (TD2.1) with the user's masking choices, through the DMP handlers (audit, session lock). The uniqueId is
 * noted first; the DMP client journals the submission and, after a timeout, searches that uniqueId before
 * any resubmission — so a retry never publishes the document twice.
 */
export function dmpChannel(core: Core): ShareChannel {
  return {
    id: 'dmp',
    label: 'DMP',
    async run(job, ctx) {
      const req = requestOf(job);
      if (!req.dmp) throw new AppError('SHARE_NO_DMP', 'Le DMP ne fait pas partie de ce partage.', job.id);
      ctx.note({ uniqueId: req.documentId });
      ctx.progress(0, 2);
      const r = await core.registry.call('dmp.publish', { cdaBase64: core.blobs.get(req.cdaBlob).toString('base64'), masking: req.dmp.masking }, { transport: 'ipc' });
      ctx.progress(1, 2);
      return { uniqueId: r.uniqueId, outcome: r.outcome, ...(r.setUniqueId ? { setUniqueId: r.setUniqueId } : {}) };
    },
  };
}
