import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP, sendDocument, startMailWorld, type MailWorld } from './harness';

/**
 * The sandbox mail servers in a folder whose path has a space — as the default data folder on Linux
 * (`~/.config/Compagnon LPS`): Postfix refuses whitespace in its configuration paths, so `lps sandbox up`
 * failed there on a fresh machine. Here every path (mail folder, certificates, data folder) has one.
 */
describe('mail sandbox under a path with a space', () => {
  let world: MailWorld;
  beforeAll(async () => {
    world = await startMailWorld('lps mss spaced ');
  }, 60_000);
  afterAll(async () => {
    await world?.stop();
  });

  it('starts Dovecot and Postfix, and a document sent is received and integrated', async () => {
    expect(world.dir).toMatch(/\s/);
    expect(world.pki.serverCert).toMatch(/\s/);
    await sendDocument(world, 'spaced.xml');
    const sync = await world.core.registry.call('mssante.sync', { account: APP });
    expect(sync.messages.map((m) => m.documents[0]?.result)).toEqual(['integrated']);
  });
});
