/** Electron IPC channel names (preload ↔ main). */
export const IPC_INVOKE = 'lps:invoke';
export const IPC_EVENT = 'lps:event';
