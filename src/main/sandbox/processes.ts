import { spawn } from 'node:child_process';
import fs from 'node:fs';

/** Starts a long-lived process in its own process group, detached from the caller, output to a log file. */
export function spawnDetached(opts: { command: string; args: string[]; logFile: string; cwd?: string; env?: NodeJS.ProcessEnv }): number {
  const out = fs.openSync(opts.logFile, 'a');
  try {
    const child = spawn(opts.command, opts.args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', out, out],
    });
    if (child.pid === undefined) throw new Error(`could not start ${opts.command}`);
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(out);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (exited, not yet reaped by its parent) still answers signal 0.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      /* already gone */
    }
  }
}

/** Stops a process and its group: SIGTERM, then SIGKILL after the grace period. Resolves once gone. */
export async function stopPid(pid: number, graceMs = 5000): Promise<'stopped' | 'killed' | 'absent'> {
  if (!isAlive(pid)) return 'absent';
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      signalGroup(pid, 'SIGKILL'); // children of the group that ignored SIGTERM
      return 'stopped';
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  signalGroup(pid, 'SIGKILL');
  const hard = Date.now() + 2000;
  while (isAlive(pid) && Date.now() < hard) await new Promise((r) => setTimeout(r, 20));
  return 'killed';
}
