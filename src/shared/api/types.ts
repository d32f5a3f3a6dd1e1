import type { z } from 'zod';

/** One request/response method of the API: its input is validated at the boundary, in main. */
export interface MethodDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  input: I;
  output: O;
  /** What the method does, for the docs and the harness listing. */
  summary: string;
}

/** The error every transport carries across the boundary (Electron IPC loses Error subclasses). */
export interface ApiError {
  /** Stable machine code, e.g. `INVALID_INPUT`, `DMP_NOT_FOUND`. */
  code: string;
  /** Message for the user, in French. */
  message: string;
  /** Technical detail for support (never secrets). */
  detail?: string;
}

export type ApiResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };
