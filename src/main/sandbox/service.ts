import type { SandboxProfile } from '../../shared/api/sandbox';
import type { Requirements } from './requirements';

/** What a sandbox service gets while it starts. */
export interface SandboxContext {
  /** The app's data directory (store, sandbox). */
  dataDir: string;
  /** `<dataDir>/sandbox`: persistent sandbox material (test CA, tokens, seeded databases). */
  sandboxDir: string;
  /** `<sandboxDir>/run`: this run's configuration, sockets and logs; emptied at each `up`. */
  runDir: string;
  /** The repository (or installed app) root, to spawn Node entries with tsx. */
  appRoot: string;
  host: string;
  /** The profile being built: services started earlier have written their sections already. */
  profile: SandboxProfile;
  freePort(): Promise<number>;
  /** Starts a detached process whose PID is recorded for `sandbox down`; output in `run/logs/<name>.log`. */
  spawn(name: string, command: string, args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): number;
  /** Starts a TypeScript/JavaScript entry in a detached Node process (tsx loader). */
  spawnNode(name: string, entry: string, args: string[], opts?: { env?: NodeJS.ProcessEnv }): number;
  /** Waits until the port accepts connections, failing early if the process died. */
  waitForPort(port: number, pid?: number, timeoutMs?: number): Promise<void>;
  log(message: string): void;
}

export interface StartedService {
  url?: string;
  ports: Record<string, number>;
}

export interface SandboxService {
  /** Stable id (`psc`, `mail`, `dmp`, `pacs`, …), the key of the service in the profile. */
  id: string;
  /** French title for messages and the UI. */
  title: string;
  requires?: Requirements;
  /** Starts the service on free loopback ports; may write its own sections of `ctx.profile`. */
  start(ctx: SandboxContext): Promise<StartedService>;
  /** Once its processes are stopped (`sandbox down`): removes what it keeps outside the data folder. */
  cleanUp?(profile: SandboxProfile): void;
}
