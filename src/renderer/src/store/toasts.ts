import { create } from 'zustand';
import type { EventPayload } from '../../../shared/api';

export type Toast = EventPayload<'notification'> & { id: number };

let next = 1;

export const useToasts = create<{ toasts: Toast[]; push(t: EventPayload<'notification'>): void; dismiss(id: number): void }>((set) => ({
  toasts: [],
  push: (t) => set((s) => ({ toasts: [...s.toasts.slice(-4), { ...t, id: next++ }] })),
  dismiss: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
}));
