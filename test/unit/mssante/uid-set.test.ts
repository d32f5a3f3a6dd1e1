import { describe, expect, it } from 'vitest';
import { uidSet } from '../../../src/main/mssante/inbox-sync';

describe('IMAP UID sets', () => {
  it('writes consecutive UIDs as ranges, in order, each UID once', () => {
    expect(uidSet([1, 2, 3, 4])).toBe('1:4');
    expect(uidSet([7])).toBe('7');
    expect(uidSet([5, 1, 2, 3, 9, 10, 12, 2])).toBe('1:3,5,9:10,12');
    expect(uidSet(Array.from({ length: 100 }, (_, i) => 1001 + i))).toBe('1001:1100');
    expect(uidSet([])).toBe('');
  });
});
