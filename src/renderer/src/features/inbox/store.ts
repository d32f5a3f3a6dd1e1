import { create } from 'zustand';
import type { InboxMessage, InboxSentMessage, InboxSyncSummary, MailAccount } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';

export type InboxTab = 'received' | 'sent';

interface InboxState {
  tab: InboxTab;
  accounts?: MailAccount[];
  /** '' = every mailbox. */
  account: string;
  messages?: InboxMessage[];
  sent?: InboxSentMessage[];
  error?: ApiError;
  selectedKey?: string;
  openDocId?: number;
  syncing: boolean;
  lastSync?: InboxSyncSummary;
  syncError?: ApiError;
  setTab(t: InboxTab): void;
  setAccount(a: string): void;
  select(key: string | undefined): void;
  openDocument(id: number | undefined): void;
  load(): Promise<void>;
  refresh(): Promise<void>;
  sync(): Promise<void>;
}

/** State of the Messagerie screen: the mailbox shown, the lists, the selection, the manual sync. */
export const useInbox = create<InboxState>((set, get) => ({
  tab: 'received',
  account: '',
  syncing: false,
  setTab: (tab) => set({ tab }),
  setAccount: (account) => {
    set({ account, messages: undefined, sent: undefined, selectedKey: undefined, openDocId: undefined });
    void get().refresh();
  },
  select: (selectedKey) => set({ selectedKey, openDocId: undefined }),
  openDocument: (openDocId) => set({ openDocId }),
  async load() {
    try {
      const accounts = await lps.invoke('mssante.accounts.list', {});
      set({ accounts, error: undefined });
    } catch (err) {
      set({ error: toApiError(err), accounts: [] });
    }
    await get().refresh();
  },
  async refresh() {
    const account = get().account || undefined;
    try {
      const [messages, sent] = await Promise.all([lps.invoke('inbox.messages.list', { account }), lps.invoke('inbox.sent.list', { account })]);
      set({ messages, sent, error: undefined });
    } catch (err) {
      set({ error: toApiError(err) });
    }
  },
  async sync() {
    if (get().syncing) return;
    set({ syncing: true, syncError: undefined });
    try {
      const lastSync = await lps.invoke('inbox.sync', { account: get().account || undefined });
      set({ lastSync });
    } catch (err) {
      set({ syncError: toApiError(err) });
    } finally {
      set({ syncing: false });
      await get().refresh();
    }
  },
}));
