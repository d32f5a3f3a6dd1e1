import type { ReactNode } from 'react';

export function Loading({ label = 'Chargement…', progress }: { label?: string; progress?: number }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
      {progress !== undefined ? <progress max={1} value={progress} aria-label={label} /> : null}
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children ? <div className="state-body">{children}</div> : null}
    </div>
  );
}
