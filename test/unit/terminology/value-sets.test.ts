import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { classCodeForType, labelOf, loadSvsValueSet, lookupCode, valueSet, valueSetNames, VALUE_SET_FILES } from '../../../src/main/terminology';
import { HAS_SHARED, sharedPath } from '../../support/shared';

describe('terminology table', () => {
  it('answers the lookups the app needs', () => {
    expect(labelOf('J07_TYPE', '11488-4')).toBe('CR ou fiche de consultation ou de visite');
    expect(lookupCode('J08_CONFIDENTIALITY', 'MASQUE_PS')).toEqual({ code: 'MASQUE_PS', codeSystem: '1.2.250.1.213.1.1.4.13', displayName: 'Masqué aux professionnels de santé' });
    expect(labelOf('J01_AUTHOR_SPECIALTY', 'G15_10/SM54')).toBe('Médecin - Médecine Générale (SM)');
    expect(labelOf('J02_FACILITY_TYPE', 'SA07')).toBe('Cabinet individuel');
    expect(lookupCode('J04_PRACTICE_SETTING', 'AMBULATOIRE')?.codeSystem).toBe('1.2.250.1.213.1.1.4.9');
    expect(lookupCode('MODALITY', 'CT')?.codeSystem).toBe('1.2.840.10008.2.16.4');
    expect(lookupCode('J07_TYPE', 'nope')).toBeUndefined();
    expect(classCodeForType('IMG-KOS').code).toBe('31');
    expect(valueSet('J07_TYPE')).toMatchObject({ oid: '1.2.250.1.213.1.1.5.471', version: expect.stringMatching(/^\d{4}-/) });
  });

  describe.skipIf(!HAS_SHARED)('matches ../shared/terminologies', () => {
    it.each(Object.entries(VALUE_SET_FILES))('%s = %s', (name, file) => {
      const svs = loadSvsValueSet(fs.readFileSync(sharedPath('terminologies', file)));
      const ours = valueSet(name as never);
      expect(ours.oid).toBe(svs.oid);
      expect(ours.version).toBe(svs.version);
      expect(ours.concepts).toEqual(svs.concepts);
    });
    it('covers every shared value set file', () => {
      const files = fs.readdirSync(sharedPath('terminologies')).filter((f) => f.endsWith('.xml')).sort();
      expect(Object.values(VALUE_SET_FILES).sort()).toEqual(files);
      expect(valueSetNames()).toHaveLength(files.length);
    });
  });
});
