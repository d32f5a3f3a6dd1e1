/**
 * Fault injection for the crash tests: when `LPS_MSS_FAULT` names a point, the process kills itself
 * (SIGKILL, no cleanup, exactly like a power cut) the first time it reaches that point. Inert otherwise.
 * `LPS_MSS_FAULT_AFTER=n` lets the point be passed n times first.
 */
let passed = 0;

export function faultPoint(name: string): void {
  const target = process.env.LPS_MSS_FAULT;
  if (!target || target !== name) return;
  const after = Number(process.env.LPS_MSS_FAULT_AFTER ?? '0');
  if (passed++ < after) return;
  process.kill(process.pid, 'SIGKILL');
}
