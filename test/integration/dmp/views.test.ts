import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../../src/main/core/app-core';
import { HAS_SHARED } from '../../support/shared';
import { tempDir } from '../../support/tmp';
import { tinyPdf } from './pdf';
import { coreOnSandboxProfile, makeCda, PS_ID, startHarness, type Harness } from './support';

/** The DMP record screen's read models (list grouped by versions, view, new version from a PDF) against the test server. */
describe.skipIf(!HAS_SHARED)('dmp.list / dmp.view / dmp.newVersion / dmp.typeCodes', () => {
  let h: Harness;
  let core: Core;
  let tmp: { dir: string; cleanup: () => void };
  const ins = '279035121518989';
  beforeAll(async () => {
    tmp = tempDir('lps-dmp-views-');
    h = await startHarness(path.join(tmp.dir, 'server'));
    core = coreOnSandboxProfile(h, path.join(tmp.dir, 'data'), { practitioner: { nameId: PS_ID, name: 'Claire DURAND', specialtyCode: 'SM26' } });
  });
  afterAll(async () => {
    await core?.close();
    await h?.stop();
    tmp?.cleanup();
  });

  it('J07 types with French labels', async () => {
    const { types } = await core.registry.call('dmp.typeCodes', {});
    expect(types.length).toBeGreaterThan(50);
    expect(types.find((t) => t.code === '11488-4')?.label).toMatch(/consultation/i);
    expect(types.map((t) => t.label)).toEqual([...types.map((t) => t.label)].sort((a, b) => a.localeCompare(b, 'fr')));
  });

  it('publish → mask → the list groups the metadata version; view; new version from a PDF groups the replaced one; delete hides it', async () => {
    const cda = makeCda({ ins, structureId: h.pki.org.structureId });
    await core.registry.call('dmp.publish', { cdaBase64: cda.xml.toString('base64') });
    await core.registry.call('dmp.set', { ins, uniqueId: cda.uniqueId, action: 'mask-ps' });

    let { groups } = await core.registry.call('dmp.list', { ins });
    let g = groups.find((x) => x.current.uniqueId === cda.uniqueId)!;
    expect(g.current.masking).toEqual(['MASQUE_PS']);
    expect(g.current.status).toBe('approved');
    expect(g.previous.map((p) => [p.kind, p.document.status, p.document.masking])).toEqual([['metadata', 'deprecated', []]]);
    // The seeded archived document is not in the default list, but with the archived status.
    expect(groups.some((x) => x.current.status === 'archived')).toBe(false);
    const withArchived = await core.registry.call('dmp.list', { ins, statuses: ['approved', 'archived'] });
    expect(withArchived.groups.some((x) => x.current.status === 'archived' && /archivé/.test(x.current.title ?? ''))).toBe(true);
    // Type filter (TD3.1): only the consultation reports.
    const typed = await core.registry.call('dmp.list', { ins, typeCodes: ['18748-4'] });
    expect(typed.groups.length).toBeGreaterThan(0);
    expect(typed.groups.every((x) => x.current.typeCode?.code === '18748-4')).toBe(true);

    const view = await core.registry.call('dmp.view', { ins, uniqueId: cda.uniqueId });
    expect(view.kind).toBe('cda');
    expect(view.header?.patient.ins).toBe(ins);
    expect(view.pdf?.base64 && Buffer.from(view.pdf.base64, 'base64').subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(view.html).not.toMatch(/<script|on\w+=/i);

    const pdf = tinyPdf('Nouvelle version du compte rendu');
    const nv = await core.registry.call('dmp.newVersion', { ins, uniqueId: cda.uniqueId, pdfBase64: pdf.toString('base64'), title: 'Compte rendu corrigé' });
    expect(nv).toMatchObject({ replacedUniqueId: cda.uniqueId, outcome: 'published', versionNumber: 2 });
    ({ groups } = await core.registry.call('dmp.list', { ins }));
    expect(groups.some((x) => x.current.uniqueId === cda.uniqueId)).toBe(false);
    g = groups.find((x) => x.current.uniqueId === nv.uniqueId)!;
    expect(g.current.title).toBe('Compte rendu corrigé');
    expect(g.current.masking).toEqual(['MASQUE_PS']); // the masking of the replaced document is kept
    expect(g.previous.map((p) => [p.kind, p.document.uniqueId])).toEqual([
      ['replaced', cda.uniqueId],
      ['replaced', cda.uniqueId],
    ]);
    const newView = await core.registry.call('dmp.view', { ins, uniqueId: nv.uniqueId });
    expect(newView.header).toMatchObject({ title: 'Compte rendu corrigé', versionNumber: 2 });
    expect(Buffer.from(newView.pdf!.base64!, 'base64').equals(pdf)).toBe(true);

    await core.registry.call('dmp.set', { ins, uniqueId: nv.uniqueId, action: 'delete' });
    ({ groups } = await core.registry.call('dmp.list', { ins }));
    expect(groups.some((x) => x.current.uniqueId === nv.uniqueId || x.previous.some((p) => p.document.uniqueId === nv.uniqueId))).toBe(false);
    const audit = core.db.prepare("SELECT action FROM audit WHERE action IN ('dmp.view', 'dmp.publish')").all() as { action: string }[];
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['dmp.view', 'dmp.publish']));
  });

  it('a new version of another author’s document is refused with the French message; a non-PDF is refused before any submission', async () => {
    const { groups } = await core.registry.call('dmp.list', { ins });
    const theirs = groups.find((x) => x.current.mimeType === 'text/xml' && !x.current.authors.some((a) => a.includes(PS_ID)))!;
    const r = await core.registry.invoke('dmp.newVersion', { ins, uniqueId: theirs.current.uniqueId, pdfBase64: tinyPdf('x').toString('base64') }, { transport: 'test' });
    expect(r).toMatchObject({ ok: false, error: { code: 'DMP_NOT_AUTHOR' } });
    const bad = await core.registry.invoke('dmp.newVersion', { ins, uniqueId: theirs.current.uniqueId, pdfBase64: Buffer.from('not a pdf at all').toString('base64') }, { transport: 'test' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'DMP_PDF_INVALID', message: expect.stringContaining('PDF') } });
  });
});
