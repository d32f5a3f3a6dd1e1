import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../../src/main/core/app-core';
import { createCore } from '../../../src/main/handlers';
import { tempDir } from '../../support/tmp';
import { DIRECTORY_HEADER } from '../../../bench/directory-data';

/** Local index of the ANS MSSanté directory extraction: import (format variants, bad lines) and multi-criteria search. */
const ROWS = [
  ['PER', 'claire.durand@medecin.mssante.fr', '8', '00012345', '800012345', 'DURAND', 'Claire', 'Médecin', 'Cardiologie', 'CH DE REIMS', '51100', 'REIMS'],
  ['PER', 'claire.durand2@pro.mssante.fr', '8', '00099999', '800099999', 'DURAND', 'Claire', 'Infirmier', '', 'CABINET INFIRMIER', '75011', 'PARIS'],
  ['PER', 'jerome.muller@medecin.mssante.fr', '8', '00054321', '800054321', 'MÜLLER', 'Jérôme', 'Médecin', 'Radiologie', 'CABINET DE RADIOLOGIE', '67000', 'STRASBOURG'],
  ['PER', 'helene.durant@pharmacien.mssante.fr', '8', '00077777', '800077777', 'DURANT', 'Hélène', 'Pharmacien', '', 'PHARMACIE CENTRALE', '51100', 'REIMS'],
  ['ORG', 'cardiologie@ch-reims.mssante.fr', '', '', '', '', '', '', '', 'CH DE REIMS', '51100', 'REIMS'],
  ['PER', 'not-an-address', '8', '1', '81', 'X', 'Y', 'Médecin', '', '', '', 'PARIS'],
  ['PER', '', '8', '2', '82', 'Z', 'W', 'Médecin', '', '', '', 'PARIS'],
];

describe('MSSanté directory index', () => {
  let tmp: ReturnType<typeof tempDir>;
  let core: Core;
  const search = (q: Record<string, unknown>) => core.registry.call('mssante.directory.search', q);
  const addresses = async (q: Record<string, unknown>) => (await search(q)).entries.map((e) => e.address).sort();

  beforeAll(async () => {
    tmp = tempDir('lps-mss-dir-');
    core = createCore({ dataDir: path.join(tmp.dir, 'data'), runtime: 'node' });
    const file = path.join(tmp.dir, 'extraction.txt');
    fs.writeFileSync(file, '\uFEFF' + [DIRECTORY_HEADER, ...ROWS.map((r) => r.join('|'))].join('\r\n') + '\r\n');
    const r = await core.registry.call('mssante.directory.import', { file });
    expect(r).toMatchObject({ rows: 5, skipped: 2 });
  });
  afterAll(async () => {
    await core.close();
    tmp.cleanup();
  });

  it('searches by name, first name, profession, city and national id, alone or combined', async () => {
    expect(await addresses({ family: 'durand' })).toEqual(['claire.durand2@pro.mssante.fr', 'claire.durand@medecin.mssante.fr']);
    expect(await addresses({ family: 'durand', profession: 'médecin' })).toEqual(['claire.durand@medecin.mssante.fr']);
    expect(await addresses({ given: 'claire', city: 'paris' })).toEqual(['claire.durand2@pro.mssante.fr']);
    expect(await addresses({ profession: 'Medecin', city: 'Reims' })).toEqual(['claire.durand@medecin.mssante.fr']);
    expect(await addresses({ city: 'reims' })).toEqual(['cardiologie@ch-reims.mssante.fr', 'claire.durand@medecin.mssante.fr', 'helene.durant@pharmacien.mssante.fr']);
    // The national id is the full "Identification nationale PP" (type prefix + RPPS), not the bare "Identifiant PP".
    expect(await addresses({ nationalId: '800054321' })).toEqual(['jerome.muller@medecin.mssante.fr']);
    expect(await addresses({ nationalId: '00054321' })).toEqual([]);
    expect(await addresses({ nationalId: '800012345', family: 'durand' })).toEqual(['claire.durand@medecin.mssante.fr']);
    expect(await addresses({ nationalId: '800012345', family: 'muller' })).toEqual([]);
  });

  it('folds case and accents, matches prefixes, and returns the fields of each entry', async () => {
    expect(await addresses({ family: 'muller', given: 'jerome' })).toEqual(['jerome.muller@medecin.mssante.fr']);
    expect(await addresses({ family: 'MÜLL' })).toEqual(['jerome.muller@medecin.mssante.fr']);
    expect(await addresses({ family: 'dura' })).toEqual(['claire.durand2@pro.mssante.fr', 'claire.durand@medecin.mssante.fr', 'helene.durant@pharmacien.mssante.fr']);
    expect(await addresses({ text: 'hélène reims' })).toEqual(['helene.durant@pharmacien.mssante.fr']);
    const r = await search({ nationalId: '800054321' });
    expect(r.entries[0]).toMatchObject({ kind: 'PER', family: 'MÜLLER', given: 'Jérôme', profession: 'Médecin', specialty: 'Radiologie', organization: 'CABINET DE RADIOLOGIE', city: 'STRASBOURG', postalCode: '67000', nationalId: '800054321' });
  });

  it('is safe with FTS syntax in the query and honours the limit and total', async () => {
    expect(await addresses({ family: 'durand" OR "x' })).toEqual([]);
    expect(await addresses({ text: 'NEAR(durand claire)' })).toEqual([]);
    expect(await addresses({ family: '*' })).toEqual([]);
    const r = await search({ family: 'dur', limit: 2 });
    expect(r.entries).toHaveLength(2);
    expect(r.total).toBe(3);
    expect(await search({})).toMatchObject({ total: 0, entries: [] });
  });

  it('replaces the index on a new import (";" separated variant) and refuses a file without an address column', async () => {
    const file = path.join(tmp.dir, 'v2.csv');
    fs.writeFileSync(file, ['Adresse messagerie;Nom;Prénom;Profession;Commune', 'a.b@x.mssante.fr;BERNARD;Alice;Sage-Femme;LILLE'].join('\n'));
    expect(await core.registry.call('mssante.directory.import', { file })).toMatchObject({ rows: 1, skipped: 0 });
    expect(await addresses({ family: 'durand' })).toEqual([]);
    expect(await addresses({ profession: 'sage femme', city: 'lille' })).toEqual(['a.b@x.mssante.fr']);
    const bad = path.join(tmp.dir, 'bad.csv');
    fs.writeFileSync(bad, 'Nom;Prénom\nX;Y\n');
    await expect(core.registry.call('mssante.directory.import', { file: bad })).rejects.toMatchObject({ code: 'DIRECTORY_FORMAT' });
    // The refused file left the previous index intact.
    expect(await addresses({ family: 'bernard' })).toEqual(['a.b@x.mssante.fr']);
  });
});
