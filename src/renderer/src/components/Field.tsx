import type { ReactNode } from 'react';

/** A labelled form field with its help text and its error, wired for assistive technologies. */
export function Field({ id, label, help, error, children }: { id: string; label: string; help?: string; error?: string; children: ReactNode }) {
  return (
    <div className={`field${error ? ' field-error' : ''}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {help ? (
        <small id={`${id}-help`} className="field-help">
          {help}
        </small>
      ) : null}
      {error ? (
        <small id={`${id}-error`} className="field-message" role="alert">
          {error}
        </small>
      ) : null}
    </div>
  );
}
