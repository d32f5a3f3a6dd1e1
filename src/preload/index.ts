/**
 * The preload: the renderer's only door to the system. It exposes `window.lps` — `invoke` for the typed
 * requests and `on` for the event streams — and nothing else (no ipcRenderer, no Node).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { LpsBridge } from '../shared/api';
import type { ApiResult } from '../shared/api/types';
import { IPC_EVENT, IPC_INVOKE } from '../shared/ipc';

const bridge: LpsBridge = {
  invoke(method: string, input: unknown): Promise<ApiResult<unknown>> {
    if (typeof method !== 'string') return Promise.reject(new TypeError('method must be a string'));
    return ipcRenderer.invoke(IPC_INVOKE, method, input) as Promise<ApiResult<unknown>>;
  },
  on(event: string, listener: (payload: unknown) => void): () => void {
    const handler = (_e: IpcRendererEvent, name: string, payload: unknown) => {
      if (name === event) listener(payload);
    };
    ipcRenderer.on(IPC_EVENT, handler);
    return () => {
      ipcRenderer.removeListener(IPC_EVENT, handler);
    };
  },
  streamUrl(scheme: string, path: string): string {
    return `${scheme}://${path.replace(/^\/+/, '')}`;
  },
};

contextBridge.exposeInMainWorld('lps', Object.freeze(bridge));
