import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../../src/main/core/app-core';
import { HAS_SHARED } from '../../support/shared';
import { tempDir } from '../../support/tmp';
import { coreOnSandboxProfile, makeCda, startHarness, type Harness } from './support';

/** The API handlers against the test server, configured the way the sandbox profile configures them. */
describe.skipIf(!HAS_SHARED)('dmp.* handlers (profile → client, journal, audit)', () => {
  let h: Harness;
  let core: Core;
  let tmp: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    tmp = tempDir('lps-dmp-api-');
    h = await startHarness(path.join(tmp.dir, 'server'));
    core = coreOnSandboxProfile(h, path.join(tmp.dir, 'data'));
  });
  afterAll(async () => {
    await core?.close();
    await h?.stop();
    tmp?.cleanup();
  });

  it('status, authorize, publish (journaled: a second publish is not resent), search, set, get — audited', async () => {
    const ins = '185067512300159';
    expect(await core.registry.call('dmp.status', { ins })).toMatchObject({ dmp: 'ACTIF', authorization: 'NON_EXISTE', advice: expect.stringContaining('consentement') });
    expect((await core.registry.call('dmp.authorize', { ins })).after.authorization).toBe('VALIDE');
    const cda = makeCda({ ins, structureId: h.pki.org.structureId });
    const file = path.join(tmp.dir, 'doc.xml');
    fs.writeFileSync(file, cda.xml);
    const first = await core.registry.call('dmp.publish', { path: file, masking: { invisiblePatient: true } });
    expect(first.outcome).toBe('published');
    const again = await core.registry.call('dmp.publish', { path: file });
    expect(again.outcome).toBe('already-published');
    const found = await core.registry.call('dmp.search', { ins });
    expect(found.documents.map((d) => [d.uniqueId, d.masking])).toEqual([[cda.uniqueId, ['INVISIBLE_PATIENT']]]);
    const set = await core.registry.call('dmp.set', { ins, uniqueId: cda.uniqueId, action: 'visible-patient' });
    expect(set.document.masking).toEqual([]);
    const out = path.join(tmp.dir, 'got.xml');
    await core.registry.call('dmp.get', { ins, uniqueId: cda.uniqueId, output: out });
    expect(fs.readFileSync(out).equals(cda.xml)).toBe(true);
    const r = await core.registry.invoke('dmp.publish', { path: file, masking: {}, replaceUniqueId: cda.uniqueId }, { transport: 'test' });
    expect(r).toMatchObject({ ok: false, error: { code: 'DMP_REPLACE_SAME_ID' } });
    const rows = core.db.prepare("SELECT action, outcome FROM audit WHERE action LIKE 'dmp.%' ORDER BY id").all() as { action: string; outcome: string }[];
    expect(rows.map((x) => x.action)).toEqual(expect.arrayContaining(['dmp.status', 'dmp.authorization.add', 'dmp.publish', 'dmp.search', 'dmp.set.visible-patient', 'dmp.get']));
    expect(JSON.stringify(rows)).not.toContain(cda.xml.toString('base64').slice(0, 40));
  });

  it('a closed DMP gives the French message through the API', async () => {
    const cda = makeCda({ ins: '266121357900485', structureId: h.pki.org.structureId });
    const r = await core.registry.invoke('dmp.publish', { cdaBase64: cda.xml.toString('base64') }, { transport: 'test' });
    expect(r).toMatchObject({ ok: false, error: { code: 'DMP_CLOSED', message: expect.stringContaining('fermé') } });
  });
});
