import { create } from 'zustand';
import type { Patient } from '../../../shared/api';

const RECENT_KEY = 'lps.recentPatients';
const MAX_RECENT = 8;

function loadRecent(): number[] {
  try {
    const v = JSON.parse(localStorage.getItem(RECENT_KEY) ?? '[]') as unknown;
    return Array.isArray(v) ? v.filter((x): x is number => Number.isInteger(x)).slice(0, MAX_RECENT) : [];
  } catch {
    return [];
  }
}

/** The patient the user works on (shown on every screen), and the recently opened ones (ids only). */
export const usePatient = create<{ current?: Patient; recentIds: number[]; select(p: Patient | undefined): void }>((set) => ({
  recentIds: loadRecent(),
  select: (p) =>
    set((s) => {
      if (!p) return { current: undefined };
      const recentIds = [p.id, ...s.recentIds.filter((id) => id !== p.id)].slice(0, MAX_RECENT);
      try {
        localStorage.setItem(RECENT_KEY, JSON.stringify(recentIds));
      } catch {
        /* private mode: no recents */
      }
      return { current: p, recentIds };
    }),
}));

export function patientName(p: Pick<Patient, 'birthFamily' | 'usedFamily' | 'firstGiven' | 'usedGiven'>): string {
  const family = p.usedFamily && p.usedFamily !== p.birthFamily ? `${p.usedFamily} (née ${p.birthFamily})` : p.birthFamily;
  return `${family} ${p.usedGiven || p.firstGiven}`;
}
