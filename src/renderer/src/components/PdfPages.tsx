import { useEffect, useRef, useState } from 'react';
import type { ApiError } from '../../../shared/api/types';
import { ErrorNotice } from './ErrorNotice';
import { Loading } from './States';
import workerUrl from 'pdfjs-dist/build/pdf.worker.min.mjs?url';

/** Pages drawn at most (a longer PDF: download it). */
const MAX_PAGES = 30;

/**
 * A received PDF drawn page by page with PDF.js into canvases: no browser PDF plugin needed (Electron
 * disables plugins), no script of the PDF ever runs (`isEvalSupported: false`, no scripting, no annotation
 * layer: links are not clickable), parsing in a worker of the app's own origin.
 */
export function PdfPages({ bytes, title, testId = 'pdf-pages' }: { bytes: Uint8Array; title: string; testId?: string }) {
  const host = useRef<HTMLDivElement>(null);
  const [state, setState] = useState<{ done: number; total?: number; error?: ApiError }>({ done: 0 });

  useEffect(() => {
    let cancelled = false;
    const el = host.current;
    if (!el) return;
    el.replaceChildren();
    setState({ done: 0 });
    let destroy: (() => void) | undefined;
    void (async () => {
      try {
        const pdfjs = await import('pdfjs-dist');
        pdfjs.GlobalWorkerOptions.workerSrc = workerUrl;
        // PDF.js takes ownership of the buffer it is given: pass a copy.
        const task = pdfjs.getDocument({ data: bytes.slice(), isEvalSupported: false, enableXfa: false, stopAtErrors: false });
        destroy = () => void task.destroy();
        const doc = await task.promise;
        if (cancelled) return;
        const total = Math.min(doc.numPages, MAX_PAGES);
        setState({ done: 0, total });
        const width = Math.max(320, el.clientWidth - 2);
        const ratio = window.devicePixelRatio || 1;
        for (let n = 1; n <= total && !cancelled; n++) {
          const page = await doc.getPage(n);
          const base = page.getViewport({ scale: 1 });
          const viewport = page.getViewport({ scale: (width / base.width) * ratio });
          const canvas = document.createElement('canvas');
          canvas.width = Math.floor(viewport.width);
          canvas.height = Math.floor(viewport.height);
          canvas.style.width = `${Math.floor(viewport.width / ratio)}px`;
          canvas.className = 'pdf-page';
          canvas.setAttribute('role', 'img');
          canvas.setAttribute('aria-label', `${title} — page ${n} sur ${doc.numPages}`);
          el.appendChild(canvas);
          await page.render({ canvasContext: canvas.getContext('2d')!, viewport }).promise;
          if (!cancelled) setState({ done: n, total });
        }
      } catch (err) {
        if (!cancelled) setState({ done: 0, error: { code: 'PDF_UNREADABLE', message: 'Ce PDF n’a pas pu être affiché. Téléchargez-le pour l’ouvrir avec votre lecteur habituel.', detail: (err as Error).message } });
      }
    })();
    return () => {
      cancelled = true;
      destroy?.();
    };
  }, [bytes, title]);

  return (
    <div className="pdf-view">
      {state.error ? <ErrorNotice error={state.error} /> : null}
      {!state.error && (state.total === undefined || state.done < state.total) ? (
        <Loading label={state.total ? `Affichage du PDF : page ${state.done + 1} sur ${state.total}…` : 'Ouverture du PDF…'} progress={state.total ? state.done / state.total : undefined} />
      ) : null}
      <div ref={host} className="pdf-pages" data-testid={testId} data-pages={state.total !== undefined && state.done === state.total ? state.done : undefined} />
    </div>
  );
}
