import { create } from 'zustand';

/**
 * How another screen (DMP record, a CR-IMG view) asks the imaging screen to open an exam:
 * `useImagingRequest.getState().open({ ins, kosUniqueId })` (or `reportUniqueId`), then `go('imaging')`.
 */
export interface ImagingOpenRequest {
  ins: string;
  kosUniqueId?: string;
  reportUniqueId?: string;
  title?: string;
}

export const useImagingRequest = create<{ pending?: ImagingOpenRequest; open(r: ImagingOpenRequest): void; consume(): void }>((set) => ({
  open: (r) => set({ pending: r }),
  consume: () => set({ pending: undefined }),
}));
