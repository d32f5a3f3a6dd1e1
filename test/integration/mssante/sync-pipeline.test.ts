import MailComposer from 'nodemailer/lib/mail-composer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentsPort } from '../../../src/main/mssante/documents-port';
import { InboxSync } from '../../../src/main/mssante/inbox-sync';
import { inlineReader, type MailReader } from '../../../src/main/mssante/mail-read-pool';
import { newMessageId } from '../../../src/main/mssante/message-build';
import { mssanteOf } from '../../../src/main/mssante/service';
import { PROCESSED_KEYWORD } from '../../../src/main/mssante/wire-profile';
import { APP, SENDER, imapAs, mailboxState, sendDocument, startMailWorld, waitFor, type MailWorld } from './harness';

/**
 * The sync's pipeline against a real Dovecot: messages are read as their sources arrive, and a batch is committed
 * while the next one is being fetched.
 */
let world: MailWorld;
beforeAll(async () => {
  world = await startMailWorld('lps-mss-pipeline-');
}, 60_000);
afterAll(async () => {
  await world?.stop();
});

/**
 * Reading starts while the batch is still being fetched (each message as its source arrives). A read that fails
 * then — a reading worker dying, say — fails the sync cleanly: no unhandled rejection on the way (vitest fails the
 * run on one), nothing of the batch committed or flagged, and the next sync takes every message.
 */
describe('a message read failing while its batch is still being fetched', () => {
  it('fails the sync, commits and flags nothing, and the next sync integrates every message', async () => {
    for (const name of ['rf1.xml', 'rf2.xml', 'rf3.xml']) await sendDocument(world, name);
    const box = await waitFor(async () => {
      const s = await mailboxState(world, APP);
      return s.length === 3 ? s : undefined;
    });
    const firstUid = Math.min(...box.map((m) => m.uid));
    const inline = inlineReader(documentsPort);
    let started = 0;
    // The first message's read fails at once, while the other two are still on their way.
    const failing: MailReader = {
      read: (src) => {
        started++;
        return src.uid === firstUid ? Promise.reject(new Error('reader died')) : inline.read(src);
      },
    };
    const svc = mssanteOf(world.core);
    const sync = new InboxSync(world.core.db, svc.reception, svc['ctx'], { inline: failing, pool: () => failing });
    await expect(sync.syncOnce(world.account(APP), { retries: 0 })).rejects.toThrow('reader died');
    expect(started).toBe(3);
    expect(world.core.db.prepare('SELECT COUNT(*) AS n FROM mss_journal WHERE account = ?').get(APP)).toEqual({ n: 0 });
    expect((await mailboxState(world, APP)).filter((m) => m.flags.includes(PROCESSED_KEYWORD))).toEqual([]);

    const again = await world.core.registry.call('mssante.sync', { account: APP });
    expect(again.messages.map((m) => m.documents[0]?.result)).toEqual(['integrated', 'integrated', 'integrated']);
    expect((await mailboxState(world, APP)).every((m) => m.flags.includes(PROCESSED_KEYWORD))).toBe(true);
  });
});

/**
 * On a real network link the FETCH is the slow side: the connection must not sit idle while a batch is committed.
 * Here the second batch's FETCH is held open until the first batch's outcomes are reported (they are, once its
 * transaction has committed): a sync that fetched a whole batch before committing the previous one would wait for
 * itself.
 */
describe('a batch committed while the next one is fetched', () => {
  it('reports the first batch before the second FETCH has ended, and loses nothing', async () => {
    const before = (await mailboxState(world, APP)).length;
    // 101 plain messages: two batches (100 + 1).
    const loader = await imapAs(world, APP);
    try {
      for (let i = 0; i < 101; i++) {
        const raw = await new MailComposer({ from: SENDER, to: APP, subject: `Message ${i + 1}`, text: 'Bonjour.', messageId: newMessageId(SENDER), date: new Date() }).compile().build();
        await loader.append('INBOX', raw);
      }
    } finally {
      await loader.logout().catch(() => loader.close());
    }

    let firstReported: () => void = () => {};
    const firstBatchReported = new Promise<void>((r) => (firstReported = r));
    const client = await imapAs(world, APP);
    const fetch = client.fetch.bind(client);
    let sourceFetches = 0;
    let secondFetchHeld = false;
    client.fetch = ((range: string, query: { source?: boolean }, opts: object) => {
      const it = fetch(range, query, opts);
      if (!query.source || ++sourceFetches !== 2) return it;
      return (async function* () {
        yield* it;
        secondFetchHeld = true;
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the first batch was not committed while the second was being fetched')), 10_000)));
        try {
          await Promise.race([firstBatchReported, late]);
        } finally {
          clearTimeout(timer);
        }
      })();
    }) as typeof client.fetch;

    const svc = mssanteOf(world.core);
    const inline = inlineReader(documentsPort);
    const sync = new InboxSync(world.core.db, svc.reception, svc['ctx'], { inline, pool: () => inline });
    const reported: number[] = [];
    let report;
    try {
      report = await sync.syncWith(client, world.account(APP), 'INBOX', (o) => {
        reported.push(o.uid);
        firstReported();
      });
    } finally {
      await client.logout().catch(() => client.close());
    }
    expect(secondFetchHeld).toBe(true);
    expect(sourceFetches).toBe(2);
    expect(report.messages.map((m) => m.kind)).toEqual(Array(101).fill('other'));
    expect(reported).toEqual([...reported].sort((a, b) => a - b));
    const box = await mailboxState(world, APP);
    expect(box).toHaveLength(before + 101);
    expect(box.every((m) => m.flags.includes(PROCESSED_KEYWORD))).toBe(true);
  });
});
