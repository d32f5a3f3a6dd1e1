import type { Command } from 'commander';
import { createCore } from '../main/handlers';
import type { Core } from '../main/core/app-core';
import { resolveDataDir } from '../main/store/paths';

/** Global options every command sees. */
export interface GlobalOptions {
  dataDir?: string;
}

export function dataDirOf(cmd: Command): string {
  const opts = cmd.optsWithGlobals() as GlobalOptions;
  return opts.dataDir ? resolveDataDir({ LPS_DATA_DIR: opts.dataDir }) : resolveDataDir();
}

/** Opens the core for one command and closes it afterwards, whatever happens. */
export async function withCore<T>(cmd: Command, fn: (core: Core) => Promise<T> | T): Promise<T> {
  const core = createCore({ dataDir: dataDirOf(cmd), runtime: 'node' });
  try {
    return await fn(core);
  } finally {
    await core.close();
  }
}
