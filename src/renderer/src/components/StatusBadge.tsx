export type Tone = 'neutral' | 'info' | 'success' | 'warning' | 'error';

export function StatusBadge({ tone, children, testId }: { tone: Tone; children: string; testId?: string }) {
  return (
    <span className={`status status-${tone}`} data-testid={testId}>
      {children}
    </span>
  );
}
