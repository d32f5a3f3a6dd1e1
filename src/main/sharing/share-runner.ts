import type { ApiError } from '../../shared/api/types';
import { toApiError } from '../core/errors';
import type { EventBus } from '../core/events';
import type { AuditTrail } from '../audit/audit-trail';
import type { ChannelId, ShareJob, ShareJobRepository } from './share-jobs';

/**
 * One channel of Y mode. `run` must itself be safe to call again after a failure or a crash: the MSSanté
 * outbox never sends a message twice, and the DMP channel searches the document's uniqueId before any
 * resubmission. `note` persists identifiers as soon as they exist.
 */
export interface ShareChannel {
  id: ChannelId;
  label: string;
  run(job: ShareJob, ctx: { note(result: Record<string, string>): void; progress(current: number, total?: number): void }): Promise<Record<string, string>>;
}

const LABELS: Record<ChannelId, string> = { mssante: 'Messagerie sécurisée', dmp: 'DMP' };

/**
 * Runs the channels of a share in parallel, each with its own progress and outcome. A partial failure is
 * resumed with `resume`, which re-runs only the channels that are not done.
 */
export class ShareRunner {
  constructor(
    private readonly jobs: ShareJobRepository,
    private readonly channels: Partial<Record<ChannelId, ShareChannel>>,
    private readonly events: EventBus,
    private readonly audit: AuditTrail,
    private readonly actor: () => string,
  ) {}

  async run(jobId: string): Promise<ShareJob> {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(`unknown share ${jobId}`);
    const pending = (Object.keys(job.channels) as ChannelId[]).filter((c) => job.channels[c]?.status !== 'done');
    await Promise.all(pending.map((c) => this.runChannel(job, c)));
    return this.jobs.get(jobId)!;
  }

  resume(jobId: string): Promise<ShareJob> {
    return this.run(jobId);
  }

  private async runChannel(job: ShareJob, channelId: ChannelId): Promise<void> {
    const channel = this.channels[channelId];
    const taskId = `share:${job.id}:${channelId}`;
    const label = `${LABELS[channelId]} — ${job.title}`;
    if (!this.jobs.start(job.id, channelId)) return;
    const progress = (current: number, total?: number, finished = false, error?: ApiError) =>
      this.events.emit('task.progress', { taskId, label, current, total, finished, ...(error ? { error } : {}) });
    progress(0);
    try {
      if (!channel) throw Object.assign(new Error(`channel ${channelId} unavailable`), { code: 'CHANNEL_UNAVAILABLE' });
      const fresh = this.jobs.get(job.id)!;
      const result = await channel.run(fresh, {
        note: (r) => this.jobs.note(job.id, channelId, r),
        progress: (c, t) => progress(c, t),
      });
      this.jobs.finish(job.id, channelId, { ok: true, result });
      progress(1, 1, true);
      this.audit.append({ actor: this.actor(), action: `share.${channelId}`, subject: job.title, outcome: 'success', details: { job: job.id, ...result } });
    } catch (err) {
      const error = toApiError(err);
      this.jobs.finish(job.id, channelId, { ok: false, error });
      progress(0, undefined, true, error);
      this.audit.append({ actor: this.actor(), action: `share.${channelId}`, subject: job.title, outcome: 'failure', details: { job: job.id, code: error.code } });
    }
  }
}
