import { create } from 'zustand';
import type { DmpDocumentGroup, DmpStatusResult } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { dayFrom, dayTo } from './labels';

export type DmpTab = 'documents' | 'imaging';
export type StatusFilter = 'approved' | 'archived' | 'deprecated';

export interface DmpFilters {
  /** `CODE^^SCHEME` or '' (all). */
  type: string;
  from: string;
  to: string;
  statuses: StatusFilter[];
  modality: string;
}

export const DEFAULT_FILTERS: DmpFilters = { type: '', from: '', to: '', statuses: ['approved'], modality: '' };

interface DmpState {
  ins?: string;
  insOid?: string;
  status?: DmpStatusResult;
  statusError?: ApiError;
  statusLoading: boolean;
  filters: DmpFilters;
  groups?: DmpDocumentGroup[];
  listError?: ApiError;
  listLoading: boolean;
  /** The document open in the view (uniqueId). */
  openId?: string;
  tab: DmpTab;
  /** Patient changed: forget everything, check the DMP again. */
  reset(ins: string | undefined, insOid: string | undefined): void;
  checkStatus(): Promise<void>;
  authorize(): Promise<void>;
  setFilters(f: Partial<DmpFilters>): void;
  search(): Promise<void>;
  open(uniqueId: string | undefined): void;
  setTab(t: DmpTab): void;
}

function patientInput(s: Pick<DmpState, 'ins' | 'insOid'>): { ins: string; insOid?: string } {
  return { ins: s.ins!, ...(s.insOid ? { insOid: s.insOid } : {}) };
}

/** The current patient's DMP: status (TD0.2), documents (TD3.1 grouped by versions), the open document. */
export const useDmp = create<DmpState>((set, get) => ({
  statusLoading: false,
  listLoading: false,
  filters: DEFAULT_FILTERS,
  tab: 'documents',
  reset(ins, insOid) {
    set({ ins, insOid, status: undefined, statusError: undefined, groups: undefined, listError: undefined, openId: undefined, filters: DEFAULT_FILTERS, tab: 'documents' });
    if (ins) void get().checkStatus();
  },
  async checkStatus() {
    const s = get();
    if (!s.ins) return;
    set({ statusLoading: true, statusError: undefined });
    try {
      const status = await lps.invoke('dmp.status', patientInput(s));
      if (get().ins !== s.ins) return;
      set({ status, statusLoading: false });
      if (status.dmp === 'ACTIF' && status.authorization === 'VALIDE') void get().search();
    } catch (e) {
      if (get().ins === s.ins) set({ statusError: toApiError(e), statusLoading: false });
    }
  },
  async authorize() {
    const s = get();
    if (!s.ins) return;
    const r = await lps.invoke('dmp.authorize', patientInput(s));
    if (get().ins !== s.ins) return;
    set({ status: r.after });
    if (r.after.dmp === 'ACTIF' && r.after.authorization === 'VALIDE') void get().search();
  },
  setFilters(f) {
    set((s) => ({ filters: { ...s.filters, ...f } }));
  },
  async search() {
    const s = get();
    if (!s.ins) return;
    const f = s.filters;
    set({ listLoading: true, listError: undefined });
    try {
      const { groups } = await lps.invoke('dmp.list', {
        ...patientInput(s),
        statuses: f.statuses.length ? f.statuses : ['approved'],
        ...(f.type ? { typeCodes: [f.type] } : {}),
        ...(f.modality ? { modalities: [f.modality] } : {}),
        ...(f.from ? { creationFrom: dayFrom(f.from) } : {}),
        ...(f.to ? { creationTo: dayTo(f.to) } : {}),
      });
      if (get().ins === s.ins) set({ groups, listLoading: false });
    } catch (e) {
      if (get().ins === s.ins) set({ listError: toApiError(e), listLoading: false });
    }
  },
  open: (openId) => set({ openId }),
  setTab: (tab) => set({ tab, openId: undefined }),
}));
