import { AppError } from '../main/core/errors';

/** How commands print: JSON for scripts (`--json`), French-first text for people. */
export interface Output {
  json: boolean;
  result(value: unknown, human?: () => string): void;
  progress(message: string): void;
}

export function makeOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      process.stdout.write(json || !human ? JSON.stringify(value, null, 2) + '\n' : human() + '\n');
    },
    progress(message) {
      // Progress goes to stderr so stdout stays machine-readable.
      process.stderr.write(message + '\n');
    },
  };
}

/** Prints an error the way support needs it: the French message, then the code and detail. */
export function printError(err: unknown, json: boolean): void {
  const e =
    err instanceof AppError
      ? err.toApiError()
      : { code: 'INTERNAL', message: 'Erreur inattendue.', detail: err instanceof Error ? err.stack ?? err.message : String(err) };
  if (json) process.stdout.write(JSON.stringify({ error: e }, null, 2) + '\n');
  process.stderr.write(`Erreur : ${e.message}\n  [${e.code}]${e.detail ? ` ${e.detail}` : ''}\n`);
}

/** Thrown by a command to end with a given exit code after it printed its result. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
