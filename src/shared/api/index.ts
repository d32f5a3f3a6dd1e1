/**
 * The one API contract between the renderer and main. Each capability contributes its own method map
 * (one file per domain in this folder); the registry in main serves them over Electron IPC and over the
 * browser harness alike.
 */
import type { z } from 'zod';
import { appMethods } from './app';
import { auditMethods } from './audit';
import { sandboxMethods } from './sandbox';
import { settingsMethods } from './settings';
import { patientsMethods } from './patients';
import { mssanteMethods } from './mssante';
import { identityMethods } from './identity';
import { configMethods } from './config';
import { dmpMethods } from './dmp';
import { inboxMethods } from './inbox';
import { imagingMethods } from './imaging';
import { shareMethods } from './share';
import type { ApiResult } from './types';
import type { EventName, EventPayload } from './events';

export const api = {
  ...appMethods,
  ...auditMethods,
  ...sandboxMethods,
  ...settingsMethods,
  ...patientsMethods,
  ...mssanteMethods,
  ...identityMethods,
  ...configMethods,
  ...dmpMethods,
  ...inboxMethods,
  ...imagingMethods,
  ...shareMethods,
} as const;

export type Api = typeof api;
export type Method = keyof Api;
/** What the caller passes (before defaults are applied). */
export type Input<M extends Method> = z.input<Api[M]['input']>;
/** What the handler receives (validated, defaults applied). */
export type ParsedInput<M extends Method> = z.output<Api[M]['input']>;
export type Output<M extends Method> = z.output<Api[M]['output']>;

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(api, name);
}

/** What the preload (Electron) or the harness bridge (browser) exposes as `window.lps`. */
export interface LpsBridge {
  invoke(method: string, input: unknown): Promise<ApiResult<unknown>>;
  on(event: string, listener: (payload: unknown) => void): () => void;
  /** The URL under which a streaming scheme's `path` is loaded (custom protocol in Electron, HTTP in the harness). */
  streamUrl(scheme: string, path: string): string;
}

export interface LpsApi {
  invoke<M extends Method>(method: M, input: Input<M>): Promise<Output<M>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
  streamUrl(scheme: 'lps-imaging', path: string): string;
}

export * from './types';
export * from './events';
export * from './app';
export * from './audit';
export * from './sandbox';
export * from './settings';
export * from './patients';
export * from './mssante';
export * from './identity';
export * from './config';
export * from './dmp';
export * from './inbox';
export * from './imaging';
export * from './share';
