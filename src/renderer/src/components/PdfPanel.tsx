import { formatSize } from '../format';
import { PdfPages } from './PdfPages';
import { Loading } from './States';
import { usePdf } from './usePdf';

/** A document's PDF: its name and size, a download link, and its pages drawn by PDF.js (unless too large). */
export function PdfPanel({
  pdf,
  note,
  className,
  testId,
}: {
  pdf: { name: string; size: number; base64: string | null; tooLarge: boolean };
  /** Where the PDF comes from, said after its size. */
  note?: string;
  className: string;
  testId: string;
}) {
  const { bytes, url } = usePdf(pdf.base64);
  return (
    <div className={className}>
      <p className="row">
        <span>
          {pdf.name} — {formatSize(pdf.size)}
          {note ? ` ${note}` : ''}
        </span>
        {url ? (
          <a className="button button-secondary" href={url} download={pdf.name}>
            Télécharger le PDF
          </a>
        ) : null}
      </p>
      {pdf.tooLarge ? (
        <p className="notice notice-warning">Ce PDF est trop volumineux pour être affiché ici ({formatSize(pdf.size)}) : téléchargez-le.</p>
      ) : bytes ? (
        <PdfPages bytes={bytes} title={pdf.name} testId={testId} />
      ) : (
        <Loading label="Préparation du PDF…" />
      )}
    </div>
  );
}
