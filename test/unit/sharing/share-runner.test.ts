import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditTrail } from '../../../src/main/audit/audit-trail';
import { AppError } from '../../../src/main/core/errors';
import { EventBus } from '../../../src/main/core/events';
import { ShareJobRepository, sharingMigrations } from '../../../src/main/sharing/share-jobs';
import { ShareRunner, type ShareChannel } from '../../../src/main/sharing/share-runner';
import { migrate, openDatabase, type Db } from '../../../src/main/store/database';

/** Channels that record every real action, so "never done twice" is observable. */
function channel(id: 'mssante' | 'dmp', behaviour: { failTimes: number; delayMs?: number }) {
  const actions: string[] = [];
  let calls = 0;
  const c: ShareChannel = {
    id,
    label: id,
    async run(job, ctx) {
      calls++;
      await new Promise((r) => setTimeout(r, behaviour.delayMs ?? 5));
      if (calls <= behaviour.failTimes) throw new AppError('NETWORK', 'Le service est injoignable.', `attempt ${calls}`);
      actions.push(`${id}:${job.id}`);
      ctx.note({ started: 'yes' });
      return { ref: `${id}-ref` };
    },
  };
  return { c, actions, calls: () => calls };
}

describe('Y-mode share runner', () => {
  let db: Db;
  let jobs: ShareJobRepository;
  let events: EventBus;
  let audit: AuditTrail;
  beforeEach(() => {
    db = openDatabase(':memory:');
    migrate(db, sharingMigrations);
    jobs = new ShareJobRepository(db);
    events = new EventBus();
    audit = new AuditTrail(db);
  });
  afterEach(() => db.close());

  it('runs both channels in parallel, each with its own outcome', async () => {
    const m = channel('mssante', { failTimes: 0, delayMs: 100 });
    const d = channel('dmp', { failTimes: 0, delayMs: 100 });
    const runner = new ShareRunner(jobs, { mssante: m.c, dmp: d.c }, events, audit, () => 'Dr Test');
    const job = jobs.create({ title: 'CR consultation', patientIns: '279035121518989', request: {}, channels: ['mssante', 'dmp'] });
    const t0 = Date.now();
    const done = await runner.run(job.id);
    expect(Date.now() - t0).toBeLessThan(190); // not one after the other
    expect(done.channels.mssante).toMatchObject({ status: 'done', result: { ref: 'mssante-ref', started: 'yes' } });
    expect(done.channels.dmp).toMatchObject({ status: 'done', result: { ref: 'dmp-ref' } });
  });

  it('resumes a partial failure without redoing the channel that succeeded', async () => {
    const m = channel('mssante', { failTimes: 0 });
    const d = channel('dmp', { failTimes: 1 });
    const progress: { taskId: string; finished: boolean; error?: unknown }[] = [];
    events.on('task.progress', (p) => progress.push(p));
    const runner = new ShareRunner(jobs, { mssante: m.c, dmp: d.c }, events, audit, () => 'Dr Test');
    const job = jobs.create({ title: 'CR', patientIns: null, request: {}, channels: ['mssante', 'dmp'] });
    const first = await runner.run(job.id);
    expect(first.channels.mssante!.status).toBe('done');
    expect(first.channels.dmp).toMatchObject({ status: 'failed', error: { code: 'NETWORK', message: 'Le service est injoignable.' } });
    expect(progress.some((p) => p.taskId.endsWith(':dmp') && p.finished && p.error)).toBe(true);

    const second = await runner.resume(job.id);
    expect(second.channels.dmp).toMatchObject({ status: 'done', attempts: 2 });
    expect(m.actions).toHaveLength(1);
    expect(m.calls()).toBe(1);
    expect(d.actions).toHaveLength(1);
    const actions = audit.list({ action: 'share.' }).entries.map((e) => `${e.action}:${e.outcome}`);
    expect(actions.sort()).toEqual(['share.dmp:failure', 'share.dmp:success', 'share.mssante:success']);
  });

  it('after a crash, marks the interrupted channel failed with a French explanation, keeping what it noted', () => {
    const job = jobs.create({ title: 'CR', patientIns: null, request: {}, channels: ['dmp'] });
    jobs.start(job.id, 'dmp');
    jobs.note(job.id, 'dmp', { uniqueId: '1.2.3' });
    expect(jobs.recoverInterrupted()).toBe(1);
    const j = jobs.get(job.id)!;
    expect(j.channels.dmp).toMatchObject({ status: 'failed', result: { uniqueId: '1.2.3' }, error: { code: 'SHARE_INTERRUPTED' } });
  });

  it('reports a missing channel as a failure instead of crashing', async () => {
    const runner = new ShareRunner(jobs, {}, events, audit, () => 'Dr Test');
    const job = jobs.create({ title: 'CR', patientIns: null, request: {}, channels: ['dmp'] });
    const r = await runner.run(job.id);
    expect(r.channels.dmp!.status).toBe('failed');
  });
});
