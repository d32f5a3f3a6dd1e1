import type { EventName, EventPayload, Input, LpsApi, LpsBridge, Method, Output } from '../../shared/api';
import type { ApiError } from '../../shared/api/types';

declare global {
  interface Window {
    /** Exposed by the Electron preload, or by the browser harness bridge. */
    lps?: LpsBridge;
  }
}

/** A failed call: `message` is the French text for the user, `detail` the technical detail. */
export class ApiCallError extends Error implements ApiError {
  readonly code: string;
  readonly detail?: string;
  constructor(err: ApiError) {
    super(err.message);
    this.code = err.code;
    this.detail = err.detail;
  }
}

function bridge(): LpsBridge {
  if (!window.lps) {
    throw new ApiCallError({
      code: 'NO_BRIDGE',
      message: "L'application n'est pas reliée à son service local. Relancez-la.",
      detail: 'window.lps is missing (no preload and no harness bridge)',
    });
  }
  return window.lps;
}

/** The typed API, the renderer's only way to reach the system. */
export const lps: LpsApi = {
  async invoke<M extends Method>(method: M, input: Input<M>): Promise<Output<M>> {
    const result = await bridge().invoke(method, input);
    if (!result.ok) throw new ApiCallError(result.error);
    return result.value as Output<M>;
  },
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void {
    return bridge().on(event, listener as (p: unknown) => void);
  },
  streamUrl(scheme, path) {
    return bridge().streamUrl(scheme, path);
  },
};

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiCallError) return { code: err.code, message: err.message, detail: err.detail };
  return { code: 'INTERNAL', message: 'Une erreur inattendue est survenue.', detail: err instanceof Error ? err.message : String(err) };
}
