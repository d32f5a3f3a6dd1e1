import { create } from 'zustand';
import type { AppInfo, ProfileState } from '../../../shared/api';
import type { ApiError } from '../../../shared/api/types';
import { lps, toApiError } from '../api';

export type ScreenId = 'home' | 'patients' | 'share' | 'inbox' | 'dmp' | 'imaging' | 'audit' | 'settings';

interface AppState {
  screen: ScreenId;
  info?: AppInfo;
  profile?: ProfileState;
  loadError?: ApiError;
  /** New or updated documents not yet looked at (badge). */
  unseen: number;
  go(screen: ScreenId): void;
  load(): Promise<void>;
  bumpUnseen(): void;
  clearUnseen(): void;
}

export const useApp = create<AppState>((set) => ({
  screen: 'home',
  unseen: 0,
  go: (screen) => set((s) => ({ screen, unseen: screen === 'inbox' ? 0 : s.unseen })),
  async load() {
    try {
      const [info, profile] = await Promise.all([lps.invoke('app.info', {}), lps.invoke('profile.get', {})]);
      set({ info, profile, loadError: undefined });
    } catch (err) {
      set({ loadError: toApiError(err) });
    }
  },
  bumpUnseen: () => set((s) => ({ unseen: s.unseen + 1 })),
  clearUnseen: () => set({ unseen: 0 }),
}));
