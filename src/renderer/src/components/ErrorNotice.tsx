import type { ApiError } from '../../../shared/api/types';

/** A failure said in French, with what to do, and the technical detail for support on demand. */
export function ErrorNotice({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  return (
    <div className="notice notice-error" role="alert">
      <p className="notice-title">{error.message}</p>
      {error.detail || error.code ? (
        <details>
          <summary>Détail technique</summary>
          <code>
            [{error.code}] {error.detail}
          </code>
        </details>
      ) : null}
      {onRetry ? (
        <button type="button" className="button" onClick={onRetry}>
          Réessayer
        </button>
      ) : null}
    </div>
  );
}
