import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../../main/core/errors';
import { buildCda, checkCda, loadCdaRequest, parseCda, readXdm, writeXdm, type ParsedCda } from '../../main/documents';
import { ExitCode, makeOutput } from '../output';

function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new AppError('FILE_UNREADABLE', `Impossible de lire ${path.basename(file)}.`, (err as Error).message);
  }
}

function summary(p: ParsedCda) {
  const h = p.header;
  return {
    id: h.id,
    setId: h.setId,
    versionNumber: h.versionNumber,
    typeCode: h.typeCode,
    title: h.title,
    effectiveTime: h.effectiveTime,
    confidentiality: h.confidentiality,
    patient: h.patient,
    authors: h.authors.map((a) => ({ id: a.id, family: a.family, given: a.given, code: a.code, organization: a.organization, time: a.time })),
    serviceStart: h.serviceEvents[0]?.start,
    serviceStop: h.serviceEvents[0]?.stop,
    facilityType: h.facilityType,
    practiceSetting: h.practiceSetting,
    relatedDocuments: h.relatedDocuments,
    orderIds: h.orderIds,
    accessionNumbers: h.accessionNumbers,
    studyInstanceUids: h.studyInstanceUids,
    level: p.level,
    body: p.body.kind === 'pdf' ? { kind: 'pdf', bytes: p.body.pdf.length } : p.body.kind === 'narrative' ? { kind: 'narrative', sections: p.body.sectionCount, attachments: p.body.attachments.length } : p.body.kind === 'text' ? { kind: 'text', chars: p.body.text.length } : p.body.kind === 'file' ? { kind: 'file', mediaType: p.body.mediaType, bytes: p.body.data.length } : { kind: 'empty' },
  };
}

export function registerDocumentsCommands(program: Command): void {
  const cda = program.command('cda').description('CDA R2 documents (CI-SIS)');

  cda
    .command('new')
    .description('build a CDA R2 from a JSON request (docs/cda-request.md)')
    .argument('<request>', 'request JSON file (paths inside are relative to it)')
    .requiredOption('-o, --output <file>', 'CDA file to write')
    .option('--json', 'print the result as JSON')
    .action((request: string, opts: { output: string; json?: boolean }) => {
      const out = makeOutput(!!opts.json);
      const { request: req, baseDir } = loadCdaRequest(request);
      const built = buildCda(req, { baseDir });
      fs.writeFileSync(opts.output, built.bytes);
      const h = built.parsed.header;
      out.result({ file: path.resolve(opts.output), id: h.id, setId: h.setId, versionNumber: h.versionNumber, bytes: built.bytes.length }, () => `Document CDA écrit : ${opts.output} (id ${h.id.root}, version ${h.versionNumber}).`);
    });

  cda
    .command('check')
    .description('XSD (CDA_extended.xsd) + CI-SIS header rules; exit 1 with the problems')
    .argument('<doc>', 'CDA file')
    .option('--schemas <dir>', 'schema folder (default: LPS_SCHEMAS_DIR or ../shared/schemas)')
    .option('--json', 'print the result as JSON')
    .action(async (doc: string, opts: { schemas?: string; json?: boolean }) => {
      const out = makeOutput(!!opts.json);
      const r = await checkCda(readFile(doc), { schemaDir: opts.schemas });
      out.result({ ok: r.ok, schemaChecked: r.schemaChecked, problems: r.problems }, () =>
        r.ok
          ? `Document conforme${r.schemaChecked ? ' (schéma + règles CI-SIS)' : ' aux règles CI-SIS (schéma non vérifié)'}.${r.problems.length ? '\n' + r.problems.map((p) => `  [${p.severity}] ${p.code} ${p.message}`).join('\n') : ''}`
          : `Document NON conforme : ${r.problems.filter((p) => p.severity === 'error').length} problème(s)\n` +
            r.problems.map((p) => `  [${p.severity}] ${p.code} ${p.message}${p.where ? ` (${p.where})` : ''}`).join('\n'),
      );
      if (!r.ok) throw new ExitCode(1);
    });

  cda
    .command('show')
    .description('header summary of a CDA R2')
    .argument('<doc>', 'CDA file')
    .option('--json', 'print the result as JSON')
    .action((doc: string, opts: { json?: boolean }) => {
      const out = makeOutput(!!opts.json);
      const s = summary(parseCda(readFile(doc)));
      out.result(s, () =>
        [
          `${s.title} — ${s.typeCode.displayName ?? s.typeCode.code}`,
          `Patient : ${s.patient.birthFamily ?? ''} ${s.patient.firstGiven ?? ''} né(e) le ${s.patient.birthDate ?? '?'}${s.patient.ins ? ` — INS ${s.patient.ins.value} (${s.patient.ins.kind})` : ''}`,
          `Auteur : ${s.authors.map((a) => `${a.given ?? ''} ${a.family ?? ''}`.trim()).join(', ')}`,
          `Créé le ${s.effectiveTime ?? '?'} — version ${s.versionNumber ?? '?'} — confidentialité ${s.confidentiality?.code ?? '?'}`,
          `Corps : ${s.body.kind}`,
        ].join('\n'),
      );
    });

  const xdm = program.command('xdm').description('IHE_XDM.zip archives');

  xdm
    .command('pack')
    .description('pack CDA documents of one patient into an IHE_XDM.zip (+ companion PDFs beside it)')
    .argument('<docs...>', 'CDA files')
    .requiredOption('-o, --output <file>', 'archive to write')
    .option('--no-pdf', 'do not write the companion PDFs')
    .option('--source-id <oid>', 'sender OID (submissionSet.sourceId)', '1.2.250.1.213.1.1.9')
    .option('--json', 'print the result as JSON')
    .action(async (docs: string[], opts: { output: string; pdf: boolean; sourceId: string; json?: boolean }) => {
      const out = makeOutput(!!opts.json);
      const parsed = docs.map((d) => parseCda(readFile(d)));
      const w = await writeXdm(parsed, { sourceId: opts.sourceId, outFile: opts.output, companionPdfs: opts.pdf });
      const dir = path.dirname(path.resolve(opts.output));
      const pdfs = w.companions.map((c) => {
        const p = path.join(dir, c.name);
        fs.writeFileSync(p, c.pdf);
        return p;
      });
      out.result(
        { file: path.resolve(opts.output), submissionSetUniqueId: w.submission.submissionSet.uniqueId, documents: w.submission.documents.map((d) => ({ uri: d.URI, uniqueId: d.uniqueId })), pdfs },
        () => `Archive XDM écrite : ${opts.output} (${parsed.length} document(s))${pdfs.length ? `\nPDF : ${pdfs.join(', ')}` : ''}`,
      );
    });

  xdm
    .command('inspect')
    .description('read an IHE_XDM.zip safely; exit 1 when it cannot be read safely')
    .argument('<zip>', 'archive')
    .option('--json', 'print the result as JSON')
    .action(async (zip: string, opts: { json?: boolean }) => {
      const out = makeOutput(!!opts.json);
      const r = await readXdm(path.resolve(zip));
      try {
        const view = {
          submissionSet: r.submissionSet
            ? { uniqueId: r.submissionSet.uniqueId, sourceId: r.submissionSet.sourceId, patientId: r.submissionSet.patientId, submissionTime: r.submissionSet.submissionTime, contentTypeCode: r.submissionSet.contentTypeCode.code }
            : null,
          documents: r.documents.map((d) => ({ uri: d.uri, uniqueId: d.uniqueId, typeCode: d.typeCode, patientId: d.patientId, hashValid: d.hashValid, sizeValid: d.sizeValid, action: d.action, problems: d.problems, title: d.title, mimeType: d.mimeType })),
          problems: r.problems,
        };
        out.result(view, () =>
          [
            `Lot ${view.submissionSet?.uniqueId ?? '?'} — patient ${view.submissionSet?.patientId ?? '?'}`,
            ...view.documents.map((d) => `  ${d.uri} ${d.typeCode} ${d.title} — empreinte ${d.hashValid ? 'OK' : 'KO'}, taille ${d.sizeValid ? 'OK' : 'KO'}${d.action ? `, action ${d.action}` : ''}${d.problems.length ? '\n    ' + d.problems.map((p) => `${p.code} ${p.message}`).join('\n    ') : ''}`),
            ...view.problems.map((p) => `  [${p.severity}] ${p.code} ${p.message}`),
          ].join('\n'),
        );
      } finally {
        r.cleanup();
      }
    });
}
