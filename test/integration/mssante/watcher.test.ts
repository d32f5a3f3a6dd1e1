import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mssanteOf } from '../../../src/main/mssante/service';
import { APP, sendDocument, startMailWorld, waitFor, type MailWorld } from './harness';

/**
 * The inbox watcher against a real Dovecot: a message delivered while watching is processed without any
 * manual sync (IMAP IDLE); when the server drops the session the watcher reconnects and catches up on what
 * arrived meanwhile; when the server offers no IDLE the watcher polls.
 */
async function journaled(world: MailWorld, account: string, messageId: string, timeoutMs = 10_000) {
  return waitFor(() => world.core.db.prepare('SELECT kind, outcome FROM mss_journal WHERE account = ? AND message_id = ?').get(account, messageId) as { kind: string; outcome: string } | undefined, timeoutMs, 50);
}

describe('inbox watcher with IMAP IDLE', () => {
  let world: MailWorld;
  beforeAll(async () => {
    world = await startMailWorld('lps-mss-idle-');
  }, 60_000);
  afterAll(async () => {
    await world?.stop();
  });

  it('processes a message delivered while watching, without a manual sync', async () => {
    const notifications: string[] = [];
    world.core.events.on('notification', (n: { title: string }) => notifications.push(n.title));
    const w = mssanteOf(world.core).watch(APP);
    await w.ready();
    const t0 = Date.now();
    const id = await sendDocument(world, 'idle1.xml');
    expect(await journaled(world, APP, id)).toEqual({ kind: 'document', outcome: 'ok' });
    // IDLE, not a poll: well under the 30 s polling period.
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(notifications).toContain('Nouveau document intégré');
    // A second one on the same session.
    const id2 = await sendDocument(world, 'idle2.xml');
    expect(await journaled(world, APP, id2)).toEqual({ kind: 'document', outcome: 'ok' });
    expect(w.reconnects).toBe(0);
  });

  it('reconnects when the server drops the session and catches up on what arrived meanwhile', async () => {
    const w = mssanteOf(world.core).watch(APP);
    await w.ready();
    const before = w.reconnects;
    execFileSync('doveadm', ['-c', world.servers.dovecotConf, 'kick', APP], { stdio: 'pipe' });
    const id = await sendDocument(world, 'idle3.xml');
    const row = await journaled(world, APP, id, 15_000).catch((err) => {
      console.log('watcher state', w.reconnects, w.mode, world.core.db.prepare(`SELECT action, details FROM audit WHERE action LIKE 'mssante.watch%' OR action LIKE 'mssante.auth%'`).all());
      throw err;
    });
    expect(row).toEqual({ kind: 'document', outcome: 'ok' });
    expect(w.reconnects).toBeGreaterThan(before);
    await w.stop();
  });
});

describe('inbox watcher on a server without IDLE', () => {
  let world: MailWorld;
  beforeAll(async () => {
    // Dovecot announcing a capability list without IDLE: the watcher must fall back to polling.
    world = await startMailWorld('lps-mss-noidle-', { dovecotExtra: 'protocol imap {\n  imap_capability = IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE SORT UIDPLUS MOVE NAMESPACE UNSELECT CHILDREN\n}\n' });
  }, 60_000);
  afterAll(async () => {
    await world?.stop();
  });

  it('polls and processes a message delivered while watching', async () => {
    const w = mssanteOf(world.core).watch(APP, { pollMs: 500 });
    await w.ready();
    expect(w.mode).toBe('polling');
    const id = await sendDocument(world, 'poll1.xml');
    expect(await journaled(world, APP, id)).toEqual({ kind: 'document', outcome: 'ok' });
    await w.stop();
  });
});
