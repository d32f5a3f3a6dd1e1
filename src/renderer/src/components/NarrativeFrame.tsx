import { useMemo } from 'react';
import narrativeCss from './narrative.css?url';

/**
 * The safe narrative HTML of a CDA (already allow-listed and inert, from main) inside a sandboxed frame: no
 * scripts, forms, popups, plugins or navigation. It keeps the app's origin only so that its stylesheet (a file:
 * the CSP forbids inline styles) loads like any other asset — without `allow-scripts` nothing in the frame can
 * use that origin.
 */
export function NarrativeFrame({ html, title, className, testId }: { html: string; title: string; className: string; testId: string }) {
  const srcDoc = useMemo(() => {
    const css = new URL(narrativeCss, document.baseURI).href;
    return `<!doctype html><html lang="fr"><head><meta charset="utf-8"><link rel="stylesheet" href="${css.replace(/"/g, '%22')}"></head><body>${html}</body></html>`;
  }, [html]);
  return <iframe className={className} sandbox="allow-same-origin" referrerPolicy="no-referrer" title={title} srcDoc={srcDoc} data-testid={testId} />;
}
