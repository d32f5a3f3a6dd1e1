import { useEffect } from 'react';
import { useToasts } from '../store/toasts';

/** Notifications of the app (new documents, finished sends…), announced politely, dismissable. */
export function Toasts() {
  const { toasts, dismiss } = useToasts();
  useEffect(() => {
    if (toasts.length === 0) return;
    const t = setTimeout(() => dismiss(toasts[0]!.id), 8000);
    return () => clearTimeout(t);
  }, [toasts, dismiss]);
  return (
    <div className="toasts" role="status" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.level}`}>
          <div>
            <strong>{t.title}</strong>
            {t.body ? <p>{t.body}</p> : null}
          </div>
          <button type="button" className="toast-close" aria-label="Fermer la notification" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
