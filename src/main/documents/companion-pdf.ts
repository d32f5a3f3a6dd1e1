/**
 * Human-readable companion PDF of a CDA (attached beside IHE_XDM.zip in MSSanté messages), PDF/A-1b via
 * pdfkit's PDF/A mode with an embedded TrueType font (DejaVu Sans from npm `dejavu-fonts-ttf`, falling back
 * to Debian's fonts-dejavu-core). pdfkit writes the PDF/A identification (XMP pdfaid part 1 / conformance B)
 * and embeds the font; it does not embed an ICC output intent, so a strict PDF/A validator may still
 * complain about device colour — we only use black text (DeviceGray) to stay within what pdfkit allows.
 */
import fs from 'node:fs';
import path from 'node:path';
import PDFDocument from 'pdfkit';
import { AppError } from '../core/errors';
import { labelOf } from '../terminology';
import type { ParsedCda } from './types';

function fontPath(bold = false): string {
  const file = bold ? 'DejaVuSans-Bold.ttf' : 'DejaVuSans.ttf';
  const candidates: string[] = [];
  try {
    candidates.push(path.join(path.dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf', file));
  } catch {
    /* not installed */
  }
  candidates.push(path.join('/usr/share/fonts/truetype/dejavu', file));
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) throw new AppError('PDF_FONT_MISSING', 'La police nécessaire au PDF est introuvable (réinstallez l\u2019application).', candidates.join(', '));
  return found;
}

function frDate(iso: string | undefined): string {
  if (!iso) return '—';
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(iso);
  if (!m) return iso;
  return `${m[3]}/${m[2]}/${m[1]}${m[4] ? ` ${m[4]}:${m[5]}` : ''}`;
}

/** Narrative HTML (our own safe output) → plain text lines. */
function htmlToText(html: string): string {
  return html
    .replace(/<(br)>/g, '\n')
    .replace(/<\/(p|li|tr|h\d|section|caption|div)>/g, '\n')
    .replace(/<\/t[dh]>/g, '\t')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

export async function renderCompanionPdf(parsed: ParsedCda): Promise<Buffer> {
  const h = parsed.header;
  const p = h.patient;
  const doc = new PDFDocument({
    pdfVersion: '1.4',
    subset: 'PDF/A-1b',
    size: 'A4',
    margin: 50,
    lang: 'fr-FR',
    displayTitle: true,
    info: { Title: h.title, Author: [h.authors[0]?.given, h.authors[0]?.family].filter(Boolean).join(' '), Subject: h.typeCode.displayName ?? h.typeCode.code, Creator: 'Compagnon LPS' },
  });
  doc.registerFont('Body', fontPath());
  doc.registerFont('Bold', fontPath(true));
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.fillColor('black');
  doc.font('Bold').fontSize(16).text(h.title);
  doc.moveDown(0.5);
  doc.font('Body').fontSize(9);
  const line = (k: string, v: string | undefined) => doc.font('Bold').text(`${k} : `, { continued: true }).font('Body').text(v || '—');
  line('Type', h.typeCode.displayName ?? labelOf('J07_TYPE', h.typeCode.code) ?? h.typeCode.code);
  line('Patient', [p.birthFamily ?? p.usedFamily, p.birthGivens ?? p.firstGiven].filter(Boolean).join(' '));
  line('Né(e) le', frDate(p.birthDate));
  line('Sexe', p.gender);
  if (p.ins) line(`INS (${p.ins.kind})`, p.ins.value);
  for (const l of p.localIds) line('Identifiant local', `${l.extension ?? ''} (${l.root})`);
  const a = h.authors[0];
  if (a) line('Auteur', [a.prefix, a.given, a.family].filter(Boolean).join(' ') + (a.organization?.name ? ` — ${a.organization.name}` : ''));
  if (a?.code) line('Profession / spécialité', a.code.displayName ?? labelOf('J01_AUTHOR_SPECIALTY', a.code.code) ?? a.code.code);
  line('Date de l\u2019acte', frDate(h.serviceEvents[0]?.start ?? h.encounter?.start));
  line('Date du document', frDate(h.effectiveTime));
  line('Version', String(h.versionNumber ?? 1));
  line('Identifiant', h.id.extension ? `${h.id.root} / ${h.id.extension}` : h.id.root);
  doc.moveDown(0.5);
  doc.moveTo(50, doc.y).lineTo(545, doc.y).stroke('black');
  doc.moveDown(0.5);
  doc.font('Body').fontSize(10);
  const b = parsed.body;
  if (b.kind === 'narrative') doc.text(htmlToText(b.html) || '(document sans texte)');
  else if (b.kind === 'text') doc.text(b.text);
  else if (b.kind === 'pdf') doc.text('Le contenu de ce document est un PDF joint au document CDA : ouvrez le document d\u2019origine pour le consulter.');
  else if (b.kind === 'file') doc.text(`Le contenu de ce document est un fichier joint (${b.mediaType}).`);
  else doc.text('(document sans contenu)');
  doc.end();
  return done;
}

function part(s: string | undefined): string {
  return (s ?? '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 60);
}

/** `<date acte>_<type doc>_<NOM>_<prénom>_<n° dossier>.pdf` (domain notes). */
export function companionPdfName(parsed: ParsedCda, opts: { dossier?: string } = {}): string {
  const h = parsed.header;
  const p = h.patient;
  const date = (h.serviceEvents[0]?.start ?? h.encounter?.start ?? h.effectiveTime ?? '').slice(0, 10).replace(/-/g, '');
  const type = h.typeCode.displayName ?? labelOf('J07_TYPE', h.typeCode.code) ?? h.typeCode.code;
  const dossier = opts.dossier ?? p.localIds[0]?.extension ?? p.ins?.value ?? '';
  return `${[part(date), part(type), part(p.birthFamily ?? p.usedFamily).toUpperCase(), part(p.firstGiven ?? p.usedGiven), part(dossier)].join('_')}.pdf`;
}

/** `XDM/1.0/DDM+<libellé> <NOM> <prénom> <date de naissance>`. */
export function xdmSubject(docs: ParsedCda[]): string {
  const first = docs[0];
  if (!first) return 'XDM/1.0/DDM+';
  const p = first.header.patient;
  const label = docs.length > 1 ? `${docs.length} documents` : (first.header.typeCode.displayName ?? first.header.title).slice(0, 40);
  return `XDM/1.0/DDM+${label} ${p.birthFamily ?? p.usedFamily ?? ''} ${p.firstGiven ?? p.usedGiven ?? ''} ${frDate(p.birthDate)}`.replace(/\s+/g, ' ').trim();
}
