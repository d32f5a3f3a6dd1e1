import type { Command } from 'commander';
import { SandboxManager } from '../../main/sandbox/manager';
import { dataDirOf } from '../context';
import { makeOutput } from '../output';

export function registerSandboxCommands(program: Command): void {
  const sandbox = program.command('sandbox').description('local test services: DMP test server, mail servers, PACS, PSC provider, test CPS token');

  sandbox
    .command('up')
    .description('start every sandbox service on free loopback ports and write the sandbox profile')
    .option('--json', 'print the profile as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!opts.json);
      const manager = new SandboxManager({ dataDir: dataDirOf(cmd), onProgress: out.progress });
      const profile = await manager.up();
      out.result(profile, () => describe(profile));
    });

  sandbox
    .command('down')
    .description('stop every sandbox service (by PID)')
    .option('--json', 'print what was stopped as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!opts.json);
      const manager = new SandboxManager({ dataDir: dataDirOf(cmd), onProgress: out.progress });
      const result = await manager.down();
      out.result(result, () => `Bac à sable arrêté (${result.stopped.length} processus).`);
    });

  sandbox
    .command('status')
    .description('print the sandbox profile: services, endpoints, test accounts and patients')
    .option('--json', 'print the profile as JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!opts.json);
      const profile = new SandboxManager({ dataDir: dataDirOf(cmd) }).status();
      out.result(profile, () => describe(profile));
    });
}

function describe(profile: ReturnType<SandboxManager['status']>): string {
  const lines = [`Bac à sable : ${profile.running ? 'démarré' : 'arrêté'}`];
  for (const s of Object.values(profile.services)) {
    lines.push(`  ${s.running ? '●' : '○'} ${s.title}${s.url ? ` — ${s.url}` : ''}`);
  }
  if (Object.keys(profile.services).length === 0) lines.push('  (aucun service déclaré)');
  return lines.join('\n');
}
