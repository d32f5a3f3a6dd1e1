/** The steps of a wizard, with the current one announced to screen readers. */
export function Stepper({ steps, current }: { steps: string[]; current: number }) {
  return (
    <ol className="stepper" aria-label="Étapes">
      {steps.map((s, i) => (
        <li key={s} className={i < current ? 'done' : i === current ? 'current' : ''} aria-current={i === current ? 'step' : undefined}>
          <span className="stepper-index">{i + 1}</span>
          <span>{s}</span>
        </li>
      ))}
    </ol>
  );
}
