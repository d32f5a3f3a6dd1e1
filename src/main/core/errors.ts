import type { ApiError } from '../../shared/api/types';

/**
 * An error meant for the user: a stable code, a French message saying what happened and what to do,
 * and a technical detail for support. Every capability throws these; the transports carry them as
 * `ApiError`, the CLI prints them.
 */
export class AppError extends Error {
  readonly code: string;
  readonly userMessage: string;
  readonly detail?: string;

  constructor(code: string, userMessage: string, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${code}: ${detail}` : `${code}: ${userMessage}`, options);
    this.name = 'AppError';
    this.code = code;
    this.userMessage = userMessage;
    this.detail = detail;
  }

  toApiError(): ApiError {
    return { code: this.code, message: this.userMessage, ...(this.detail ? { detail: this.detail } : {}) };
  }
}

/** Any thrown value as an ApiError; unexpected errors keep their message as the technical detail. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof AppError) return err.toApiError();
  const detail = err instanceof Error ? err.message : String(err);
  return {
    code: 'INTERNAL',
    message: "Une erreur inattendue s'est produite. Réessayez ; si elle persiste, transmettez le détail technique au support.",
    detail,
  };
}
