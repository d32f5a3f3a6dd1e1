import { create } from 'zustand';
import type { EventPayload } from '../../../shared/api';

type Progress = EventPayload<'task.progress'>;

/** Long work in progress (sync, send, publish, image download), fed by the `task.progress` events. */
export const useTasks = create<{ tasks: Record<string, Progress>; update(p: Progress): void; clear(id: string): void }>((set) => ({
  tasks: {},
  update: (p) => set((s) => ({ tasks: { ...s.tasks, [p.taskId]: p } })),
  clear: (id) =>
    set((s) => {
      const { [id]: _, ...rest } = s.tasks;
      return { tasks: rest };
    }),
}));
