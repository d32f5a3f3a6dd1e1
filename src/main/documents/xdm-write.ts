/** IHE_XDM.zip writer (CI-SIS volet "Echange de documents de santé"). */
import fs from 'node:fs';
import { ZipFile } from 'yazl';
import { AppError } from '../core/errors';
import { companionPdfName, renderCompanionPdf } from './companion-pdf';
import { serializeSubmitObjectsRequest } from './ebrim-write';
import type { ParsedCda, XdsSubmission } from './types';
import { deriveXdsMetadata, type XdsChoices } from './xds-derive';
import { esc } from './xml-util';

export interface XdmWriteOptions extends XdsChoices {
  /** Stream the archive to this file instead of returning a Buffer. */
  outFile?: string;
  /** Name of the sending organisation/software for INDEX.HTM / README.TXT. */
  senderName?: string;
  /** zlib level for the documents (default 1: CDA bodies are mostly base64 of already-compressed PDFs). */
  compressionLevel?: number;
  /** Also render the human-readable companion PDFs (returned, to be attached beside the zip). */
  companionPdfs?: boolean;
}

export interface XdmWritten {
  zip?: Buffer;
  outFile?: string;
  submission: XdsSubmission;
  metadataXml: string;
  companions: { name: string; pdf: Buffer }[];
}

export const XDM_SUBSET = 'IHE_XDM/SUBSET01';

function docName(i: number): string {
  return `DOC${String(i + 1).padStart(4, '0')}.XML`;
}

function indexHtm(sub: XdsSubmission, sender: string): string {
  const rows = sub.documents
    .map((d) => `<li><a href="${XDM_SUBSET}/${esc(d.URI ?? '')}">${esc(d.title)}</a> (${esc(d.typeCode.displayName)})</li>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Documents de sant\u00e9 (IHE XDM)</title></head>
<body><h1>Documents de sant\u00e9</h1>
<p>Lot de soumission ${esc(sub.submissionSet.uniqueId)} envoy\u00e9 par ${esc(sender)}.</p>
<p>M\u00e9tadonn\u00e9es : <a href="${XDM_SUBSET}/METADATA.XML">${XDM_SUBSET}/METADATA.XML</a></p>
<ul>
${rows}
</ul></body></html>
`;
}

function readmeTxt(sub: XdsSubmission, sender: string): string {
  return [
    'Archive IHE XDM (CI-SIS, volet Echange de documents de sante)',
    `Emetteur : ${sender}`,
    `Lot de soumission : ${sub.submissionSet.uniqueId}`,
    `Documents : ${sub.documents.length}`,
    '',
    'Contenu :',
    '  INDEX.HTM                      sommaire lisible',
    '  README.TXT                     ce fichier',
    `  ${XDM_SUBSET}/METADATA.XML   metadonnees XDS (ebRIM 3.0)`,
    ...sub.documents.map((d) => `  ${XDM_SUBSET}/${d.URI}      ${d.title}`),
    '',
  ].join('\r\n');
}

/** Builds the archive for one patient's documents. */
export async function writeXdm(docs: ParsedCda[], options: XdmWriteOptions): Promise<XdmWritten> {
  if (!docs.length) throw new AppError('XDM_NO_DOCUMENT', 'Aucun document à mettre dans l\u2019archive XDM.', 'empty document list');
  const choices: XdsChoices = {
    ...options,
    patientIdMode: options.patientIdMode ?? 'first',
    documents: docs.map((_, i) => ({ ...(options.documents?.[i] ?? {}), uri: docName(i) })),
  };
  const submission = deriveXdsMetadata(docs, choices);
  const metadataXml = serializeSubmitObjectsRequest(submission);
  const sender = options.senderName ?? submission.submissionSet.sourceId;
  const zip = new ZipFile();
  const mtime = new Date();
  zip.addBuffer(Buffer.from(indexHtm(submission, sender), 'utf8'), 'INDEX.HTM', { mtime });
  zip.addBuffer(Buffer.from(readmeTxt(submission, sender), 'utf8'), 'README.TXT', { mtime });
  zip.addBuffer(Buffer.from(metadataXml, 'utf8'), `${XDM_SUBSET}/METADATA.XML`, { mtime });
  const compressionLevel = options.compressionLevel ?? 1;
  docs.forEach((d, i) => zip.addBuffer(d.bytes, `${XDM_SUBSET}/${docName(i)}`, { mtime, compress: compressionLevel > 0, compressionLevel }));
  zip.end();
  let out: XdmWritten;
  if (options.outFile) {
    await new Promise<void>((resolve, reject) => {
      const ws = fs.createWriteStream(options.outFile!);
      zip.outputStream.on('error', reject).pipe(ws).on('error', reject).on('finish', () => resolve());
    });
    out = { outFile: options.outFile, submission, metadataXml, companions: [] };
  } else {
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      zip.outputStream.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve()).on('error', reject);
    });
    out = { zip: Buffer.concat(chunks), submission, metadataXml, companions: [] };
  }
  if (options.companionPdfs) {
    for (const d of docs) out.companions.push({ name: companionPdfName(d), pdf: await renderCompanionPdf(d) });
  }
  return out;
}
