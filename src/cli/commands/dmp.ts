import path from 'node:path';
import type { Command } from 'commander';
import type { DmpDocument } from '../../shared/api/dmp';
import { AppError } from '../../main/core/errors';
import { runServer } from '../../main/dmp/server/main';
import { createTestPki } from '../../main/dmp/server/test-pki';
import { APP_ROOT } from '../../main/sandbox/manager';
import { withCore, dataDirOf } from '../context';
import { makeOutput } from '../output';

/** `lps dmp …` (TD0.2, TD0.3, TD2.1, TD3.1, TD3.2, TD3.3) and `lps dmp-server` (the DMP test server alone). */

const list = (v: string, prev: string[] = []): string[] => [...prev, ...v.split(',').map((x) => x.trim()).filter(Boolean)];

function describeDoc(d: DmpDocument): string {
  const flags = [d.status !== 'approved' ? d.status : '', ...d.masking].filter(Boolean).join(', ');
  const when = d.creationTime ? `${d.creationTime.slice(6, 8)}/${d.creationTime.slice(4, 6)}/${d.creationTime.slice(0, 4)}` : '';
  return `  ${when.padEnd(10)} ${(d.typeCode?.display ?? d.mimeType).slice(0, 40).padEnd(40)} ${d.title ?? ''}${flags ? ` [${flags}]` : ''}\n             ${d.uniqueId}`;
}

export function registerDmpCommands(program: Command): void {
  const dmp = program.command('dmp').description('DMP (shared medical record): status, authorization, publish, search, retrieve, manage a document');

  dmp
    .command('status')
    .description('TD0.2: does the DMP exist, is it active, and the access authorization')
    .requiredOption('--ins <INS>', 'patient INS (15 characters)')
    .option('--ins-oid <OID>', 'INS OID (default: the profile\'s)')
    .option('--json', 'JSON output')
    .action(async (o: { ins: string; insOid?: string; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const r = await withCore(cmd, (core) => core.registry.call('dmp.status', { ins: o.ins, ...(o.insOid ? { insOid: o.insOid } : {}) }));
      out.result(r, () => `DMP ${r.dmp} — autorisation ${r.authorization}${r.treatingPhysician ? ' — médecin traitant' : ''}\n${r.advice}`);
    });

  dmp
    .command('authorize')
    .description('TD0.3: record (after the patient\'s consent) or remove the access authorization')
    .requiredOption('--ins <INS>', 'patient INS')
    .option('--ins-oid <OID>', 'INS OID')
    .option('--remove', 'remove the authorization')
    .option('--json', 'JSON output')
    .action(async (o: { ins: string; insOid?: string; remove?: boolean; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const r = await withCore(cmd, (core) => core.registry.call('dmp.authorize', { ins: o.ins, remove: !!o.remove, ...(o.insOid ? { insOid: o.insOid } : {}) }));
      out.result(r, () => `${o.remove ? 'Autorisation supprimée' : 'Autorisation enregistrée'}${r.expiresAt ? ` (jusqu'au ${r.expiresAt.slice(0, 10)})` : ''}.\n${r.after.advice}`);
    });

  dmp
    .command('publish <file>')
    .description('TD2.1: publish a CDA document (signed submission set), optionally replacing one')
    .option('--mask-ps', 'masked from health professionals (visible to its author, the treating physicians and the patient)')
    .option('--invisible-patient', 'not visible to the patient (until the announcement consultation)')
    .option('--invisible-legal-reps', 'not visible to the patient\'s legal representatives')
    .option('--replace <uniqueId>', 'replaces this document (new version, RPLC)')
    .option('--json', 'JSON output')
    .action(async (file: string, o: { maskPs?: boolean; invisiblePatient?: boolean; invisibleLegalReps?: boolean; replace?: string; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const r = await withCore(cmd, (core) =>
        core.registry.call('dmp.publish', {
          path: path.resolve(file),
          masking: { maskPs: !!o.maskPs, invisiblePatient: !!o.invisiblePatient, invisibleLegalReps: !!o.invisibleLegalReps },
          ...(o.replace ? { replaceUniqueId: o.replace } : {}),
        }),
      );
      const how: Record<string, string> = {
        published: 'Document déposé dans le DMP.',
        'already-published': 'Ce document était déjà déposé : il n’a pas été renvoyé.',
        'confirmed-after-timeout': 'Le DMP n’a pas répondu à temps, mais le dépôt a été vérifié : il est bien présent.',
        'resubmitted-after-timeout': 'Le DMP n’a pas répondu à temps ; le document étant absent, il a été renvoyé une fois et accepté.',
      };
      out.result(r, () => `${how[r.outcome]}\n  identifiant : ${r.uniqueId}${r.replacedEntryUuid ? '\n  (remplace la version précédente, désormais obsolète)' : ''}`);
    });

  dmp
    .command('search')
    .description('TD3.1: search documents')
    .requiredOption('--ins <INS>', 'patient INS')
    .option('--ins-oid <OID>', 'INS OID')
    .option('--type <CODE>', 'document type (LOINC), repeatable or comma-separated', list)
    .option('--class <CODE>', 'document class', list)
    .option('--modality <CODE>', 'imaging modality (CT, MR…)', list)
    .option('--region <CODE>', 'anatomic region', list)
    .option('--accession <AN>', 'accession number', list)
    .option('--status <STATUS>', 'approved, deprecated, archived (default: approved)', list)
    .option('--from <DATE>', 'created on or after (YYYYMMDD)')
    .option('--to <DATE>', 'created before (YYYYMMDD)')
    .option('--signatures', 'include the submission-set signature entries')
    .option('--json', 'JSON output')
    .action(async (o: { ins: string; insOid?: string; type?: string[]; class?: string[]; modality?: string[]; region?: string[]; accession?: string[]; status?: string[]; from?: string; to?: string; signatures?: boolean; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const statuses = o.status?.map((s) => s.toLowerCase());
      const bad = statuses?.find((s) => !['approved', 'deprecated', 'archived'].includes(s));
      if (bad) throw new AppError('INVALID_INPUT', `Statut inconnu : ${bad} (approved, deprecated, archived).`, bad);
      const r = await withCore(cmd, (core) =>
        core.registry.call('dmp.search', {
          ins: o.ins,
          ...(o.insOid ? { insOid: o.insOid } : {}),
          ...(o.type ? { typeCodes: o.type } : {}),
          ...(o.class ? { classCodes: o.class } : {}),
          ...(o.modality ? { modalities: o.modality } : {}),
          ...(o.region ? { regions: o.region } : {}),
          ...(o.accession ? { accessionNumbers: o.accession } : {}),
          ...(statuses ? { statuses: statuses as ('approved' | 'deprecated' | 'archived')[] } : {}),
          ...(o.from ? { creationFrom: o.from } : {}),
          ...(o.to ? { creationTo: o.to } : {}),
          includeSignatures: !!o.signatures,
        }),
      );
      out.result(r, () => (r.documents.length ? `${r.documents.length} document(s) :\n${r.documents.map(describeDoc).join('\n')}` : 'Aucun document.'));
    });

  dmp
    .command('get')
    .description('TD3.2: retrieve a document (checked against its hash)')
    .requiredOption('--ins <INS>', 'patient INS')
    .option('--ins-oid <OID>', 'INS OID')
    .requiredOption('--id <uniqueId>', 'document uniqueId')
    .requiredOption('-o, --output <file>', 'output file')
    .option('--json', 'JSON output')
    .action(async (o: { ins: string; insOid?: string; id: string; output: string; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!o.json);
      const r = await withCore(cmd, (core) => core.registry.call('dmp.get', { ins: o.ins, uniqueId: o.id, output: path.resolve(o.output), ...(o.insOid ? { insOid: o.insOid } : {}) }));
      out.result(r, () => `Document enregistré : ${r.path} (${r.size} octets, ${r.document.mimeType}).`);
    });

  dmp
    .command('set')
    .description('TD3.3: masking, visibility, archiving, deletion of a document')
    .requiredOption('--ins <INS>', 'patient INS')
    .option('--ins-oid <OID>', 'INS OID')
    .requiredOption('--id <uniqueId>', 'document uniqueId')
    .option('--mask-ps', 'mask from health professionals')
    .option('--unmask-ps', 'unmask for health professionals')
    .option('--invisible-patient', 'make invisible to the patient')
    .option('--visible-patient', 'make visible to the patient')
    .option('--invisible-legal-reps', 'make invisible to legal representatives')
    .option('--visible-legal-reps', 'make visible to legal representatives')
    .option('--archive', 'archive')
    .option('--unarchive', 'unarchive')
    .option('--delete', 'delete (author only)')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>, cmd: Command) => {
      const out = makeOutput(!!o['json']);
      const actions = ['maskPs', 'unmaskPs', 'invisiblePatient', 'visiblePatient', 'invisibleLegalReps', 'visibleLegalReps', 'archive', 'unarchive', 'delete'].filter((k) => o[k]);
      if (actions.length !== 1) {
        throw new AppError('INVALID_INPUT', 'Indiquez une et une seule action : --mask-ps, --unmask-ps, --invisible-patient, --visible-patient, --invisible-legal-reps, --visible-legal-reps, --archive, --unarchive ou --delete.', `actions: ${actions.join(',') || 'none'}`);
      }
      const action = actions[0]!.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) as 'mask-ps';
      const r = await withCore(cmd, (core) =>
        core.registry.call('dmp.set', { ins: String(o['ins']), uniqueId: String(o['id']), action, ...(o['insOid'] ? { insOid: String(o['insOid']) } : {}) }),
      );
      out.result(r, () => `Fait : ${action}.\n${describeDoc(r.document)}`);
    });

  program
    .command('dmp-server')
    .description('run the DMP test server alone (HTTPS + client certificate), in the foreground')
    .option('--port <n>', 'port (default: a free one)', '0')
    .option('--cert <file>', 'server TLS certificate (default: the sandbox PKI)')
    .option('--key <file>', 'server TLS key')
    .option('--ca <file>', 'trusted CA(s) for client certificates (PEM)')
    .option('--schemas <dir>', 'ebRS 3.0 / XDS.b schemas (default: ../shared/schemas/ebrs30)')
    .option('--practitioner <id>', 'national id of the sandbox practitioner (seeded authorizations)', '810001234567')
    .option('--json', 'print the configuration as JSON once started')
    .action(async (o: { port: string; cert?: string; key?: string; ca?: string; schemas?: string; practitioner: string; json?: boolean }, cmd: Command) => {
      const dir = path.join(dataDirOf(cmd), 'dmp-server');
      const pki = o.cert && o.key && o.ca ? undefined : createTestPki(path.join(dir, 'pki'));
      const server = await runServer(
        {
          port: Number(o.port),
          host: '127.0.0.1',
          db: path.join(dir, 'dmp.sqlite'),
          cert: o.cert ?? pki!.serverCert,
          key: o.key ?? pki!.serverKey,
          ca: o.ca ?? pki!.caCert,
          schemas: o.schemas ?? path.resolve(APP_ROOT, '..', 'shared', 'schemas', 'ebrs30'),
          practitioner: o.practitioner,
        },
        o.json ? () => {} : undefined,
      );
      if (o.json) process.stdout.write(JSON.stringify({ url: server.url, pki: pki ?? null }, null, 2) + '\n');
      await new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.stop();
    });
}
