import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentsPort } from '../../../src/main/mssante/documents-port';
import { InboxSync } from '../../../src/main/mssante/inbox-sync';
import { inlineReader, type MailReader } from '../../../src/main/mssante/mail-read-pool';
import { mssanteOf } from '../../../src/main/mssante/service';
import { PROCESSED_KEYWORD } from '../../../src/main/mssante/wire-profile';
import { APP, mailboxState, sendDocument, startMailWorld, waitFor, type MailWorld } from './harness';

/**
 * Reading starts while the batch is still being fetched (each message as its source arrives). A read that fails
 * then — a reading worker dying, say — fails the sync cleanly: no unhandled rejection on the way (vitest fails the
 * run on one), nothing of the batch committed or flagged, and the next sync takes every message.
 */
describe('a message read failing while its batch is still being fetched', () => {
  let world: MailWorld;
  beforeAll(async () => {
    world = await startMailWorld('lps-mss-readfail-');
  }, 60_000);
  afterAll(async () => {
    await world?.stop();
  });

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
