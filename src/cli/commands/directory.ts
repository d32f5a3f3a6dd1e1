import type { Command } from 'commander';
import { withCore } from '../context';
import { makeOutput } from '../output';

export function registerDirectoryCommands(program: Command): void {
  const dir = program.command('directory').description('local index of the MSSanté directory (ANS public extraction)');

  dir
    .command('import <file>')
    .description('import the ANS bulk extraction of MSSanté mailboxes (replaces the local index)')
    .option('--json', 'print JSON')
    .action(async (file: string, o: { json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const r = await withCore(cmd, (core) => core.registry.call('mssante.directory.import', { file }));
      out.result(r, () => `${r.rows} adresse(s) importée(s), ${r.skipped} ligne(s) ignorée(s) en ${r.tookMs} ms.`);
    });

  dir
    .command('search [text...]')
    .description('multi-criteria search: free text and/or --name --first-name --profession --city --id')
    .option('--name <family>', 'family name')
    .option('--first-name <given>', 'first name')
    .option('--profession <profession>', 'profession')
    .option('--city <city>', 'city')
    .option('--id <nationalId>', 'national id (RPPS with its type prefix)')
    .option('--limit <n>', 'max results', '20')
    .option('--json', 'print JSON')
    .action(async (text: string[], o: { name?: string; firstName?: string; profession?: string; city?: string; id?: string; limit: string; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const r = await withCore(cmd, (core) =>
        core.registry.call('mssante.directory.search', {
          ...(text.length ? { text: text.join(' ') } : {}),
          family: o.name,
          given: o.firstName,
          profession: o.profession,
          city: o.city,
          nationalId: o.id,
          limit: Number(o.limit),
        }),
      );
      out.result(r, () => [`${r.total} résultat(s) (${r.tookMs} ms)`, ...r.entries.map((e) => `  ${e.address}\t${[e.given, e.family].filter(Boolean).join(' ')}\t${e.profession ?? ''}\t${e.city ?? ''}`)].join('\n'));
    });
}
