import { useTasks } from '../store/tasks';

/** Progress of one long task: a real bar when the total is known, the count otherwise — never a bare spinner. */
export function TaskProgress({ taskId, fallbackLabel }: { taskId: string; fallbackLabel?: string }) {
  const task = useTasks((s) => s.tasks[taskId]);
  if (!task) return fallbackLabel ? <p className="task">{fallbackLabel}</p> : null;
  const ratio = task.total ? Math.min(1, task.current / task.total) : undefined;
  return (
    <div className="task" data-testid={`task-${taskId}`}>
      <span>{task.label}</span>
      {task.finished ? null : ratio !== undefined ? (
        <progress max={1} value={ratio} aria-label={task.label} />
      ) : (
        <span className="task-count">{task.current > 0 ? `${task.current} traité(s)…` : 'en cours…'}</span>
      )}
    </div>
  );
}
