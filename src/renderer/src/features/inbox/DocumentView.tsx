import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { InboxDocumentView } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDate, formatDateTime } from '../../format';
import { DOC_STATUS, genderLabel } from './labels';
import { NarrativeFrame } from '../../components/NarrativeFrame';
import { PdfPanel } from '../../components/PdfPanel';
import { ReadMdnAction } from './ReceivedTab';
import { useInbox } from './store';

type View = 'narrative' | 'pdf' | 'versions';

export function DocumentView({ id }: { id: number }) {
  const { openDocument, messages } = useInbox();
  const [data, setData] = useState<InboxDocumentView>();
  const [error, setError] = useState<ApiError>();
  const [view, setView] = useState<View>('narrative');
  const back = useRef<HTMLButtonElement>(null);

  const load = () => {
    setError(undefined);
    setData(undefined);
    lps.invoke('inbox.document.get', { id }).then(setData, (e) => setError(toApiError(e)));
  };
  useEffect(load, [id]);
  useEffect(() => back.current?.focus(), [id]);
  const message = data ? messages?.find((m) => m.account === data.account && m.messageId === data.messageId) : undefined;

  // A level-1 CDA whose body is a PDF has no narrative to show: the PDF is the document.
  const pdfOnly = data?.header.level === 1 && !!data.pdf;
  useEffect(() => setView(pdfOnly ? 'pdf' : 'narrative'), [id, pdfOnly]);
  const views: { id: View; label: string }[] = [
    ...(pdfOnly ? [] : [{ id: 'narrative' as const, label: 'Compte rendu' }]),
    { id: 'pdf', label: data?.pdf ? 'PDF' : 'PDF (absent)' },
    { id: 'versions', label: `Versions (${data?.versions.length ?? '…'})` },
  ];
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    e.preventDefault();
    const i = views.findIndex((v) => v.id === view);
    const next = views[(i + (e.key === 'ArrowRight' ? 1 : views.length - 1)) % views.length]!;
    setView(next.id);
    e.currentTarget.querySelector<HTMLButtonElement>(`#doc-tab-${next.id}`)?.focus();
  };

  return (
    <article aria-labelledby="doc-title" className="inbox-docview" data-testid="inbox-document-view">
      <button ref={back} type="button" className="button button-secondary" onClick={() => openDocument(undefined)}>
        ← Retour au message
      </button>
      {error ? <ErrorNotice error={error} onRetry={load} /> : null}
      {!data && !error ? <Loading label="Ouverture du document…" /> : null}
      {data ? (
        <>
          <div className="inbox-doc-head">
            <h2 id="doc-title" className="inbox-detail-title">
              {data.header.title}
            </h2>
            <StatusBadge tone={DOC_STATUS[data.document.status].tone}>{DOC_STATUS[data.document.status].label}</StatusBadge>
          </div>
          {data.document.status === 'replaced' && data.document.replacedById != null ? (
            <div className="notice notice-warning">
              <p className="notice-title">Cette version a été remplacée par une version plus récente.</p>
              <button type="button" className="button button-secondary" onClick={() => openDocument(data.document.replacedById!)}>
                Voir la version actuelle
              </button>
            </div>
          ) : null}
          {data.document.status === 'deleted' ? (
            <p className="notice notice-warning">L’auteur a demandé la suppression de ce document le {formatDateTime(data.document.deletedAt)} : il reste consultable ici.</p>
          ) : null}
          <dl className="facts inbox-doc-facts">
            <dt>Type</dt>
            <dd>
              {data.header.typeLabel ?? data.header.typeCode} <span className="muted">(LOINC {data.header.typeCode})</span>
            </dd>
            <dt>Date</dt>
            <dd>{formatDateTime(data.header.effectiveTime)}</dd>
            <dt>Auteur</dt>
            <dd>{data.header.authors.map((a) => [a.name, a.organization].filter(Boolean).join(' — ')).join(' ; ') || '—'}</dd>
            <dt>Patient</dt>
            <dd>
              {[data.header.patient.birthFamily, data.header.patient.givens].filter(Boolean).join(' ') || '—'} · {genderLabel(data.header.patient.gender)} · né(e) le{' '}
              {formatDate(data.header.patient.birthDate)}
              {data.header.patient.ins ? (
                <>
                  {' '}
                  · INS <code>{data.header.patient.ins}</code>
                </>
              ) : null}
            </dd>
            {data.document.patient ? (
              <>
                <dt>Dossier local</dt>
                <dd>{data.document.patient.name}</dd>
              </>
            ) : null}
            {data.header.confidentiality ? (
              <>
                <dt>Confidentialité</dt>
                <dd>{data.header.confidentiality}</dd>
              </>
            ) : null}
          </dl>
          <div className="inbox-tabs inbox-tabs-small" role="tablist" aria-label="Contenu du document" onKeyDown={onKey}>
            {views.map((v) => (
              <button
                key={v.id}
                id={`doc-tab-${v.id}`}
                type="button"
                role="tab"
                aria-selected={view === v.id}
                aria-controls="doc-panel"
                tabIndex={view === v.id ? 0 : -1}
                className={`inbox-tab${view === v.id ? ' active' : ''}`}
                onClick={() => setView(v.id)}
              >
                {v.label}
              </button>
            ))}
          </div>
          <div id="doc-panel" role="tabpanel" aria-labelledby={`doc-tab-${view}`}>
            {view === 'narrative' ? <NarrativeFrame html={data.html} title={`Contenu du document ${data.header.title}`} className="inbox-frame" testId="inbox-narrative" /> : null}
            {view === 'pdf' ? (
              data.pdf ? (
                <PdfPanel
                  pdf={data.pdf}
                  note={data.pdf.source === 'embedded' ? '(document PDF transmis dans le CDA)' : '(version PDF jointe au message)'}
                  className="inbox-pdf"
                  testId="inbox-pdf"
                />
              ) : (
                <Empty title="Aucun PDF n’accompagne ce document." />
              )
            ) : null}
            {view === 'versions' ? (
              <ol className="list inbox-versions" aria-label="Versions du document">
                {data.versions.map((v) => (
                  <li key={v.id} className="inbox-version">
                    <span>
                      <strong>Version {v.version ?? '?'}</strong> <span className="muted">reçue le {formatDateTime(v.receivedAt)}</span>{' '}
                      <StatusBadge tone={DOC_STATUS[v.status].tone}>{DOC_STATUS[v.status].label}</StatusBadge>
                    </span>
                    {v.current ? (
                      <span className="muted">affichée</span>
                    ) : (
                      <button type="button" className="button button-secondary" onClick={() => openDocument(v.id)}>
                        Ouvrir cette version
                      </button>
                    )}
                  </li>
                ))}
              </ol>
            ) : null}
          </div>
          {message ? (
            <>
              <h3>Accusé de lecture</h3>
              <ReadMdnAction message={message} />
            </>
          ) : null}
        </>
      ) : null}
    </article>
  );
}
