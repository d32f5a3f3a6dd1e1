import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../../main/core/errors';
import { sandboxDir } from '../../main/store/paths';
import { DicomwebClient } from '../../main/imaging/dicomweb-client';
import { imagingSourceFor } from '../../main/imaging/dmp-source';
import { buildExams, retrieveKos } from '../../main/imaging/exams';
import { fetchKosInstances } from '../../main/imaging/fetch-kos';
import { kosInstances, parseKos, type KosManifest } from '../../main/imaging/kos';
import { trustProvider } from '../../main/imaging/trust';
import { dataDirOf, withCore } from '../context';
import { ExitCode, makeOutput } from '../output';

/** Bearer token: --token, else LPS_PSC_ACCESS_TOKEN, else (sandbox PACS only) the sandbox's own token. */
function tokenFor(dataDir: string, explicit: string | undefined, kos: KosManifest): string | undefined {
  if (explicit) return explicit;
  if (process.env.LPS_PSC_ACCESS_TOKEN) return process.env.LPS_PSC_ACCESS_TOKEN;
  try {
    const profile = JSON.parse(fs.readFileSync(path.join(sandboxDir(dataDir), 'profile.json'), 'utf8')) as { pacs?: { dicomwebUrl: string; accessToken: string } };
    const pacs = profile.pacs;
    const urls = kos.studies.flatMap((s) => s.series.map((x) => x.retrieve.seriesUrl ?? ''));
    if (pacs && urls.length && urls.every((u) => u.startsWith(pacs.dicomwebUrl))) return pacs.accessToken;
  } catch {
    /* no sandbox */
  }
  return undefined;
}

function summary(kos: KosManifest) {
  return {
    sopInstanceUid: kos.sopInstanceUid,
    transferSyntaxUid: kos.transferSyntaxUid,
    title: kos.title,
    patient: kos.patient,
    accessionNumber: kos.accessionNumber,
    studyDate: kos.studyDate,
    instanceCount: kos.instanceCount,
    studies: kos.studies,
    warnings: kos.warnings,
  };
}

export function registerImagingCommands(program: Command): void {
  const imaging = program.command('imaging').description('imaging exams: KOS from the DMP, DICOMweb retrieval');

  imaging
    .command('kos')
    .description('parse a KOS (DICOM Key Object Selection) file: study → series → instances with retrieve locations')
    .argument('<file>', 'KOS file (.dcm)')
    .option('--json', 'print as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const out = makeOutput(!!opts.json);
      let bytes: Buffer;
      try {
        bytes = fs.readFileSync(file);
      } catch (err) {
        throw new AppError('FILE_NOT_FOUND', `Fichier introuvable ou illisible : ${file}`, (err as Error).message);
      }
      const kos = parseKos(bytes);
      out.result(summary(kos), () =>
        [
          `KOS ${kos.sopInstanceUid} — patient ${kos.patient.id ?? '?'} (${kos.patient.name ?? ''}), n° d'examen ${kos.accessionNumber ?? '—'}, ${kos.instanceCount} image(s)`,
          ...kos.studies.flatMap((st) => [
            `  Étude ${st.studyInstanceUid}`,
            ...st.series.map((se) => `    Série ${se.seriesInstanceUid} : ${se.instances.length} image(s) — ${se.retrieve.seriesUrl ?? `${se.retrieve.source} ${se.retrieve.retrieveAeTitle ?? ''} ${se.retrieve.retrieveLocationUid ?? ''}`}`),
          ]),
          ...kos.warnings.map((w) => `  ! ${w}`),
        ].join('\n'),
      );
    });

  imaging
    .command('exams')
    .description("a patient's imaging exams (KOS) with their reports")
    .requiredOption('--ins <ins>', 'qualified INS of the patient')
    .option('--from <date>', 'from date (YYYY-MM-DD)')
    .option('--to <date>', 'to date (YYYY-MM-DD)')
    .option('--modality <code>', 'modality (CT, MR, US, …)')
    .option('--region <snomed>', 'anatomic region (SNOMED CT code)')
    .option('--json', 'print as JSON')
    .action(async (opts: { ins: string; from?: string; to?: string; modality?: string; region?: string; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!opts.json);
      const filters = {
        ...(opts.from ? { from: opts.from } : {}),
        ...(opts.to ? { to: opts.to } : {}),
        ...(opts.modality ? { modality: opts.modality } : {}),
        ...(opts.region ? { region: opts.region } : {}),
      };
      // The DMP (TD3.1) when configured — the sandbox's when it runs; the sandbox seed only without a DMP.
      const { source, exams } = await withCore(cmd, async (core) => {
        const src = imagingSourceFor(core);
        return { source: src, exams: buildExams(await src.findDocuments(opts.ins, undefined, filters), filters) };
      });
      out.result({ ins: opts.ins, source: source.kind, exams }, () =>
        exams.length === 0
          ? 'Aucun examen d’imagerie trouvé.'
          : exams.map((e) => `${e.date ?? '????????'}  ${e.modalities.join('/') || '—'}  ${e.title ?? ''}  [KOS ${e.kosUniqueId}]  n° ${e.accessionNumber ?? '—'}  ${e.reports.length ? `compte rendu ${e.reports[0]!.uniqueId}` : 'sans compte rendu'}`).join('\n'),
      );
    });

  imaging
    .command('fetch')
    .description('download every instance a KOS references as DICOM Part 10 files (WADO-RS)')
    .option('--ins <ins>', 'qualified INS of the patient (with --kos)')
    .option('--kos <uniqueId>', 'KOS unique id in the DMP (with --ins)')
    .option('--kos-file <file>', 'a local KOS file instead of the DMP')
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--token <token>', 'PSC access token (default: LPS_PSC_ACCESS_TOKEN)')
    .option('--dicomweb-root <url>', 'DICOMweb root to use when the KOS has no Retrieve URL')
    .option('--timeout <ms>', 'network timeout in ms', '20000')
    .option('--json', 'print as JSON')
    .action(
      async (
        opts: { ins?: string; kos?: string; kosFile?: string; out: string; token?: string; dicomwebRoot?: string; timeout: string; json?: boolean },
        cmd: Command,
      ) => {
        const out = makeOutput(!!opts.json);
        const dataDir = dataDirOf(cmd);
        let kos: KosManifest;
        if (opts.kosFile) kos = parseKos(fs.readFileSync(opts.kosFile));
        else if (opts.ins && opts.kos) kos = await withCore(cmd, (core) => retrieveKos(imagingSourceFor(core), opts.ins!, opts.kos!));
        else throw new AppError('INVALID_INPUT', 'Indiquez --ins et --kos, ou --kos-file.', 'missing KOS');
        const token = tokenFor(dataDir, opts.token, kos);
        const ca = await withCore(cmd, (core) => trustProvider(core)());
        const client = new DicomwebClient({ getToken: () => token, timeoutMs: Number(opts.timeout), ca });
        const ctrl = new AbortController();
        process.once('SIGINT', () => ctrl.abort());
        const started = Date.now();
        let lastPrint = 0;
        const result = await fetchKosInstances(client, kos, opts.out, {
          signal: ctrl.signal,
          dicomwebRootOverride: opts.dicomwebRoot,
          onProgress: (p) => {
            if (p.done === p.total || Date.now() - lastPrint > 250) {
              lastPrint = Date.now();
              out.progress(`Téléchargement : ${p.done}/${p.total} images (${(p.bytes / 1048576).toFixed(1)} Mio)`);
            }
          },
        });
        const value = {
          kos: kos.sopInstanceUid,
          outDir: path.resolve(opts.out),
          expected: kosInstances(kos).length,
          written: result.files.length,
          bytes: result.files.reduce((n, f) => n + f.bytes, 0),
          seconds: (Date.now() - started) / 1000,
          missing: result.missing,
          unreachableSeries: result.unreachableSeries,
          files: result.files.map((f) => f.file),
        };
        out.result(value, () =>
          `${value.written}/${value.expected} image(s) écrite(s) dans ${value.outDir} en ${value.seconds.toFixed(1)} s` +
          (value.missing.length ? `\n${value.missing.length} image(s) absente(s) du serveur` : '') +
          (value.unreachableSeries.length ? `\n${value.unreachableSeries.length} série(s) sans adresse DICOMweb` : ''),
        );
        if (value.missing.length || value.unreachableSeries.length) throw new ExitCode(2);
      },
    );
}
