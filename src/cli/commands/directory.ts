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
    .option('--online', 'also search the online FHIR annuaire (ANS Annuaire Santé; in the sandbox profile: the sandbox server)')
    .option('--json', 'print JSON')
    .action(async (text: string[], o: { name?: string; firstName?: string; profession?: string; city?: string; id?: string; limit: string; online?: boolean; json?: boolean }, cmd: Command) => {
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
          online: !!o.online,
        }),
      );
      // The online part failing does not fail the search: the local results are printed, the reason on stderr.
      if (r.warning) out.progress(`Attention : ${r.warning.message} [${r.warning.code}]`);
      out.result(r, () =>
        [
          `${r.total} résultat(s) (${r.tookMs} ms)${r.online ? ` dont ${r.online.added} de l’annuaire en ligne${r.online.more ? ' (d’autres résultats en ligne : affinez la recherche)' : ''}` : ''}`,
          ...r.entries.map((e) => `  ${e.address}\t${[e.given, e.family].filter(Boolean).join(' ')}\t${e.profession ?? ''}\t${e.city ?? ''}${e.source === 'annuaire-fhir' ? '\t(en ligne)' : ''}`),
        ].join('\n'),
      );
    });

  dir
    .command('online')
    .description('show or set the online FHIR annuaire of the production profile (base URL; API key read from stdin, stored encrypted)')
    .option('--base-url <url>', 'service base, e.g. https://gateway.api.esante.gouv.fr/fhir/v2')
    .option('--api-key-stdin', 'read the API key from standard input (never as an argument)')
    .option('--clear-api-key', 'forget the stored API key')
    .option('--json', 'print JSON')
    .action(async (o: { baseUrl?: string; apiKeyStdin?: boolean; clearApiKey?: boolean; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      let apiKey: string | undefined;
      if (o.apiKeyStdin) {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        apiKey = Buffer.concat(chunks).toString('utf8').trim();
      }
      const change = o.baseUrl !== undefined || apiKey !== undefined || !!o.clearApiKey;
      const r = await withCore(cmd, (core) =>
        change
          ? core.registry.call('mssante.directory.online.set', { ...(o.baseUrl ? { baseUrl: o.baseUrl } : {}), ...(apiKey !== undefined ? { apiKey } : {}), ...(o.clearApiKey ? { clearApiKey: true } : {}) })
          : core.registry.call('mssante.directory.online.get', {}),
      );
      out.result(r, () => `Annuaire en ligne (${r.source === 'sandbox' ? 'bac à sable' : 'paramètres'}) : ${r.baseUrl || '(non démarré)'} — clé d’API ${r.apiKeySet ? 'enregistrée' : 'absente'}`);
    });
}
