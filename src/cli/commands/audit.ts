import type { Command } from 'commander';
import { withCore } from '../context';
import { ExitCode, makeOutput } from '../output';

export function registerAuditCommands(program: Command): void {
  const audit = program.command('audit').description('the hash-chained audit trail');

  audit
    .command('verify')
    .description('recompute the hash chain; exit 1 and name the first broken row when it is broken')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!opts.json);
      const result = await withCore(cmd, (core) => core.audit.verify());
      out.result(result, () =>
        result.ok
          ? `Traces intègres : ${result.rows} ligne(s) vérifiée(s).`
          : `Traces ALTÉRÉES : première ligne en défaut n° ${result.brokenAt} (${result.reason}).`,
      );
      if (!result.ok) throw new ExitCode(1);
    });

  audit
    .command('list')
    .description('the newest audit rows')
    .option('--limit <n>', 'how many rows', '50')
    .option('--action <prefix>', 'only actions starting with this prefix')
    .option('--json', 'print as JSON')
    .action(async (opts: { limit: string; action?: string; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!opts.json);
      const result = await withCore(cmd, (core) => core.registry.call('audit.list', { limit: Number(opts.limit), action: opts.action }));
      out.result(result, () => result.entries.map((e) => `${e.id}\t${e.at}\t${e.actor}\t${e.action}\t${e.subject ?? ''}\t${e.outcome}`).join('\n'));
    });
}
