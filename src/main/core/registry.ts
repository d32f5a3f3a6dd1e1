import { api, isMethod, type Method, type Output, type ParsedInput } from '../../shared/api';
import type { ApiResult } from '../../shared/api/types';
import { AppError, toApiError } from './errors';

/** Who is calling, as the transport knows it. */
export interface CallContext {
  transport: 'ipc' | 'harness' | 'cli' | 'test';
}

export type Handler<M extends Method> = (input: ParsedInput<M>, ctx: CallContext) => Promise<Output<M>> | Output<M>;

/** Runs before every handler (e.g. the session lock); throws an AppError to refuse the call. */
export type Guard = (method: Method, ctx: CallContext) => void;

/**
 * The one registry of API handlers. Electron IPC, the browser harness and tests all call `invoke`, which
 * validates the method name and the input against the shared contract before any handler runs.
 */
export class HandlerRegistry {
  private readonly handlers = new Map<Method, Handler<Method>>();
  private readonly guards: Guard[] = [];

  /** Adds a guard consulted before every call, whatever the transport. */
  addGuard(guard: Guard): void {
    this.guards.push(guard);
  }

  register<M extends Method>(method: M, handler: Handler<M>): this {
    if (this.handlers.has(method)) throw new Error(`handler already registered: ${method}`);
    this.handlers.set(method, handler as unknown as Handler<Method>);
    return this;
  }

  has(method: Method): boolean {
    return this.handlers.has(method);
  }

  methods(): Method[] {
    return [...this.handlers.keys()];
  }

  /** Validates and dispatches one call; never throws: failures come back as `{ ok: false, error }`. */
  async invoke(method: unknown, rawInput: unknown, ctx: CallContext): Promise<ApiResult<unknown>> {
    try {
      if (!isMethod(method)) {
        throw new AppError('UNKNOWN_METHOD', "Cette action n'existe pas dans cette version de l'application.", `method: ${String(method).slice(0, 100)}`);
      }
      const handler = this.handlers.get(method);
      if (!handler) {
        throw new AppError('NOT_AVAILABLE', "Cette fonction n'est pas disponible dans cette version.", `no handler for ${method}`);
      }
      for (const guard of this.guards) guard(method, ctx);
      const parsed = api[method].input.safeParse(rawInput ?? {});
      if (!parsed.success) {
        const detail = parsed.error.issues
          .slice(0, 10)
          .map((i) => `${i.path.join('.') || '(racine)'}: ${i.message}`)
          .join('; ');
        throw new AppError('INVALID_INPUT', 'La demande est invalide : vérifiez les valeurs saisies.', `${method}: ${detail}`);
      }
      const value = await handler(parsed.data as ParsedInput<Method>, ctx);
      return { ok: true, value };
    } catch (err) {
      return { ok: false, error: toApiError(err) };
    }
  }

  /** For in-process callers (CLI, tests): returns the value or throws the AppError. */
  async call<M extends Method>(method: M, input: unknown, ctx: CallContext = { transport: 'cli' }): Promise<Output<M>> {
    const result = await this.invoke(method, input, ctx);
    if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.detail);
    return result.value as Output<M>;
  }
}
