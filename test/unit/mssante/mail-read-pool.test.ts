import path from 'node:path';
import { Worker } from 'node:worker_threads';
import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCda, loadCdaRequest, writeXdm } from '../../../src/main/documents';
import { documentsPort } from '../../../src/main/mssante/documents-port';
import { createCore } from '../../../src/main/handlers';
import { inlineReader, MailReadPool, readWorkerCount, SETTING_READ_WORKERS } from '../../../src/main/mssante/mail-read-pool';
import { unpackReadMail, type MailSource, type ReadMail } from '../../../src/main/mssante/message-read';
import { mssanteOf } from '../../../src/main/mssante/service';
import { ensureBuilt, OUT, ROOT } from '../../support/build';
import { tempDir } from '../../support/tmp';

const SENDER = 'jean.dupont@sandbox.mssante.fr';

async function mail(opts: { subject: string; zip?: Buffer; pdf?: Buffer; dnt?: boolean }): Promise<Buffer> {
  return new MailComposer({
    from: SENDER,
    to: 'pfi@sandbox.mssante.fr',
    subject: opts.subject,
    text: 'Document ci-joint.',
    messageId: `<${Math.random().toString(36).slice(2)}@sandbox.mssante.fr>`,
    headers: opts.dnt ? [{ key: 'Disposition-Notification-To', value: SENDER }] : [],
    attachments: [
      ...(opts.zip ? [{ filename: 'IHE_XDM.zip', content: opts.zip, contentType: 'application/zip' }] : []),
      ...(opts.pdf ? [{ filename: 'document.pdf', content: opts.pdf, contentType: 'application/pdf' }] : []),
    ],
  })
    .compile()
    .build();
}

async function sources(): Promise<MailSource[]> {
  const { request, baseDir } = loadCdaRequest(path.join(ROOT, 'examples', 'cda-request.json'));
  const cda = buildCda(request, { baseDir });
  const w = await writeXdm([cda.parsed], { sourceId: '1.2.250.1.999.1', companionPdfs: true });
  const good = await mail({ subject: `XDM/1.0/DDM+${cda.parsed.header.title}`, zip: w.zip!, pdf: w.companions[0]!.pdf, dnt: true });
  const broken = Buffer.from(good.toString('latin1').replace(/UEsDB[A-Za-z0-9+/]{40}/, 'UEsDBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), 'latin1');
  const noArchive = await mail({ subject: 'XDM/1.0/DDM+sans archive' });
  const plain = await mail({ subject: 'Bonjour' });
  return [good, broken, noArchive, plain].map((raw, i) => ({ uid: i + 1, size: raw.length, raw }));
}

/** What a reading decides, comparable across threads. */
function decided(r: ReadMail) {
  return {
    outcome: r.outcome,
    dnt: r.dnt,
    headerText: r.headerText,
    docs: (r.prepared ?? []).map((d) => ({ id: d.uniqueId, problem: d.problem, title: d.cda?.header.title, ins: d.cda?.header.patient.ins, bytes: d.cda && Buffer.isBuffer(d.cda.bytes) ? d.cda.bytes.length : -1, pdf: d.pdf && Buffer.isBuffer(d.pdf.data) ? d.pdf.data.length : -1 })),
  };
}

describe('reading received mail on worker threads', () => {
  const pool = new MailReadPool(2);
  afterAll(() => pool.close());

  it('decides exactly as the inline reader, Buffers included', async () => {
    const srcs = await sources();
    const inline = await Promise.all(srcs.map((s) => inlineReader(documentsPort).read(s)));
    const pooled = await Promise.all(srcs.map((s) => pool.read(s)));
    expect(pooled.map(decided)).toEqual(inline.map(decided));
    expect(inline.map((r) => r.outcome.kind)).toEqual(['document', 'rejected', 'rejected', 'other']);
    expect(inline[0]!.prepared![0]!.cda!.header.patient.ins?.value).toMatch(/^\d{15}$/);
    expect(inline[0]!.prepared![0]!.pdf!.data.length).toBeGreaterThan(1000);
    expect(inline[1]!.outcome.error?.detail).toMatch(/XDM refused/);
  }, 60_000);

  it('fails the jobs of a closed pool instead of leaving them pending', async () => {
    const srcs = await sources();
    const p = new MailReadPool(1);
    const job = expect(p.read(srcs[0]!)).rejects.toThrow(/closed/);
    await p.close();
    await job;
  }, 60_000);

  it('runs a built worker named by LPS_MAIL_READ_WORKER (what the benchmark measures), and names a wrong one', async () => {
    ensureBuilt();
    const srcs = await sources();
    const saved = process.env.LPS_MAIL_READ_WORKER;
    process.env.LPS_MAIL_READ_WORKER = path.join(OUT, 'main', 'mail-read.worker.js');
    const built = new MailReadPool(1);
    try {
      const inline = await Promise.all(srcs.map((s) => inlineReader(documentsPort).read(s)));
      expect((await Promise.all(srcs.map((s) => built.read(s)))).map(decided)).toEqual(inline.map(decided));
      process.env.LPS_MAIL_READ_WORKER = path.join(OUT, 'main', 'no-such-worker.js');
      expect(() => new MailReadPool(1).warm()).toThrow(/LPS_MAIL_READ_WORKER: no built worker at .*no-such-worker\.js/);
    } finally {
      if (saved === undefined) delete process.env.LPS_MAIL_READ_WORKER;
      else process.env.LPS_MAIL_READ_WORKER = saved;
      await built.close();
    }
  }, 240_000);

  it('runs from the built bundle (out/main/mail-read.worker.js)', async () => {
    ensureBuilt();
    const [src] = await sources();
    const worker = new Worker(path.join(OUT, 'main', 'mail-read.worker.js'));
    try {
      const reply = await new Promise<{ ok: boolean; read: ReadMail }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage({ id: 1, uid: src!.uid, size: src!.size, raw: new Uint8Array(src!.raw!) });
      });
      expect(reply.ok).toBe(true);
      expect(unpackReadMail(reply.read).outcome.kind).toBe('document');
    } finally {
      await worker.terminate();
    }
  }, 240_000);
});

describe('how many reading workers a large sync uses', () => {
  it('leaves a core to the main thread (one worker on 2 cores, none on 1), at most 4; a configured count wins within 0–8', () => {
    expect([1, 2, 3, 4, 6, 16].map((cores) => readWorkerCount(cores))).toEqual([0, 1, 2, 3, 4, 4]);
    expect(readWorkerCount(2, 2)).toBe(2);
    expect(readWorkerCount(16, 0)).toBe(0);
    expect(readWorkerCount(4, 2.7)).toBe(2);
    expect(readWorkerCount(4, 100)).toBe(8);
    expect(readWorkerCount(4, -3)).toBe(0);
    // Not a usable count: the default by cores.
    for (const bad of ['2', null, Number.NaN, Infinity, { n: 2 }]) expect(readWorkerCount(4, bad)).toBe(3);
  });

  it('follows the mssante.readWorkers setting: a new pool once the old one has nothing in progress, none at 0', async () => {
    const tmp = tempDir();
    const core = createCore({ dataDir: tmp.dir, runtime: 'node' });
    try {
      const svc = mssanteOf(core);
      const readers = () => svc['readers']();
      core.settings.set(SETTING_READ_WORKERS, 2);
      const two = readers()!;
      expect(two.size).toBe(2);
      expect(readers()).toBe(two);
      // A read in progress keeps its pool, whatever the setting says meanwhile.
      const [src] = await sources();
      const reading = two.read(src!);
      core.settings.set(SETTING_READ_WORKERS, 1);
      expect(readers()).toBe(two);
      expect((await reading).outcome.kind).toBe('document');
      const one = readers()!;
      expect(one).not.toBe(two);
      expect(one.size).toBe(1);
      core.settings.set(SETTING_READ_WORKERS, 0);
      expect(readers()).toBeUndefined();
    } finally {
      await core.close();
      tmp.cleanup();
    }
  }, 60_000);
});
