import { useState, type KeyboardEvent } from 'react';
import type { InboxDocument, InboxDocumentStatus, InboxMessage } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDate, formatDateTime } from '../../format';
import { DocumentView } from './DocumentView';
import { ImportPanel } from './ImportPanel';
import { CLASSIFICATION, DOC_STATUS } from './labels';
import { useInbox } from './store';

type Filter = '' | InboxDocumentStatus | 'other';

/** Moves the focus between the buttons of a list with the arrow keys. */
export function arrowNav(e: KeyboardEvent<HTMLElement>) {
  if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
  const items = Array.from(e.currentTarget.querySelectorAll<HTMLButtonElement>('button.inbox-item'));
  const i = items.indexOf(document.activeElement as HTMLButtonElement);
  if (i < 0) return;
  e.preventDefault();
  items[Math.max(0, Math.min(items.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)))]?.focus();
}

function messageTitle(m: InboxMessage): string {
  const titles = m.documents.map((d) => d.title).filter(Boolean);
  if (titles.length) return titles.join(', ');
  if (m.kind === 'rejected') return 'Message refusé';
  return m.subject || '(sans objet)';
}

function summaryStatus(m: InboxMessage): InboxDocumentStatus | undefined {
  if (m.kind === 'rejected') return 'rejected';
  const order: InboxDocumentStatus[] = ['queued', 'rejected', 'integrated', 'replaced', 'deleted', 'duplicate'];
  return order.find((s) => m.documents.some((d) => d.status === s));
}

export function ReceivedTab() {
  const { messages = [], selectedKey, select, openDocId } = useInbox();
  const [filter, setFilter] = useState<Filter>('');
  const shown = messages.filter((m) => {
    if (!filter) return true;
    if (filter === 'other') return m.kind === 'other';
    if (filter === 'rejected' && m.kind === 'rejected') return true;
    return m.documents.some((d) => d.status === filter);
  });
  const selected = messages.find((m) => m.key === selectedKey);

  return (
    <div className={`inbox-split${openDocId !== undefined ? ' inbox-split-doc' : ''}`}>
      <div className="panel inbox-list-panel" hidden={openDocId !== undefined}>
        <label className="inbox-filter">
          Afficher
          <select value={filter} onChange={(e) => setFilter(e.target.value as Filter)}>
            <option value="">Tous les messages</option>
            <option value="queued">À importer</option>
            <option value="integrated">Intégrés</option>
            <option value="rejected">Rejetés</option>
            <option value="replaced">Remplacés</option>
            <option value="deleted">Supprimés</option>
            <option value="other">Messages sans document</option>
          </select>
        </label>
        {messages.length === 0 ? (
          <Empty title="Aucun message reçu pour l’instant.">
            <p>Cliquez sur « Relever » pour interroger votre messagerie sécurisée.</p>
          </Empty>
        ) : shown.length === 0 ? (
          <Empty title="Aucun message pour ce filtre." />
        ) : (
          <ul className="list inbox-list" aria-label="Messages reçus" onKeyDown={arrowNav}>
            {shown.map((m) => {
              const st = summaryStatus(m);
              return (
                <li key={m.key}>
                  <button
                    type="button"
                    className={`list-item inbox-item${m.key === selectedKey ? ' selected' : ''}`}
                    aria-pressed={m.key === selectedKey}
                    onClick={() => select(m.key)}
                    data-testid="inbox-message"
                  >
                    <span className="inbox-item-top">
                      <strong className="inbox-item-title">{messageTitle(m)}</strong>
                      {st ? <StatusBadge tone={DOC_STATUS[st].tone}>{DOC_STATUS[st].label}</StatusBadge> : <StatusBadge tone="neutral">Message</StatusBadge>}
                    </span>
                    <span className="muted inbox-item-meta">
                      {m.from ?? 'Expéditeur inconnu'} · {formatDateTime(m.receivedAt)}
                    </span>
                    {m.documents[0]?.patientName ? <span className="inbox-item-meta">Patient : {m.documents[0].patientName}</span> : null}
                  </button>
                </li>
              );
            })}
          </ul>
        )}
      </div>
      <div className="panel inbox-detail-panel">
        {openDocId !== undefined ? (
          <DocumentView id={openDocId} />
        ) : selected ? (
          <MessageDetail key={selected.key} message={selected} />
        ) : (
          <Empty title="Sélectionnez un message.">
            <p>Son détail montre chaque document, son statut d’intégration et les actions possibles.</p>
          </Empty>
        )}
      </div>
    </div>
  );
}

export function ReadMdnAction({ message }: { message: Pick<InboxMessage, 'account' | 'messageId' | 'mdnRequested' | 'readMdnSent'> }) {
  const refresh = useInbox((s) => s.refresh);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState(false);
  if (!message.mdnRequested || !message.messageId) return <p className="muted">L’expéditeur n’a pas demandé d’accusé de lecture.</p>;
  if (message.readMdnSent || done) return <p className="notice notice-success inbox-mdn-sent">Accusé de lecture envoyé à l’expéditeur.</p>;
  const send = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await lps.invoke('mssante.mdn.read', { account: message.account, messageId: message.messageId! });
      setDone(true);
      await refresh();
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="inbox-mdn">
      <p>L’expéditeur a demandé un accusé de lecture : envoyez-le quand vous avez pris connaissance du message.</p>
      <button type="button" className="button button-secondary" onClick={() => void send()} disabled={busy}>
        {busy ? 'Envoi de l’accusé…' : 'Envoyer l’accusé de lecture'}
      </button>
      {error ? <ErrorNotice error={error} /> : null}
    </div>
  );
}

function MessageDetail({ message: m }: { message: InboxMessage }) {
  return (
    <article aria-labelledby="inbox-msg-title" data-testid="inbox-message-detail">
      <h2 id="inbox-msg-title" className="inbox-detail-title">
        {messageTitle(m)}
      </h2>
      <dl className="facts">
        <dt>Objet</dt>
        <dd className="inbox-subject">{m.subject || '(sans objet)'}</dd>
        <dt>Expéditeur</dt>
        <dd>{m.from ?? '—'}</dd>
        <dt>Reçu le</dt>
        <dd>{formatDateTime(m.receivedAt)}</dd>
        <dt>Boîte</dt>
        <dd>{m.account}</dd>
        {m.mdnAuto ? (
          <>
            <dt>Accusé automatique</dt>
            <dd>
              {m.mdnAuto.disposition === 'processed'
                ? 'Accusé d’intégration envoyé à l’expéditeur.'
                : `Accusé d’erreur ${m.mdnAuto.code ?? ''} envoyé à l’expéditeur.`}
            </dd>
          </>
        ) : null}
      </dl>
      {m.error ? (
        <div className="notice notice-error">
          <p className="notice-title">
            Message refusé — code {m.error.code} : {m.error.label}
          </p>
          {m.errorDetail ? <small>{m.errorDetail}</small> : null}
        </div>
      ) : null}
      {m.kind === 'other' ? <p className="muted">Ce message ne contient pas de document de santé structuré (pas d’archive IHE_XDM.zip).</p> : null}
      {m.documents.length ? <h3>Document{m.documents.length > 1 ? 's' : ''}</h3> : null}
      <ul className="inbox-docs">
        {m.documents.map((d, i) => (
          <li key={`${d.documentId}-${i}`}>
            <DocumentCard doc={d} />
          </li>
        ))}
      </ul>
      <h3>Accusé de lecture</h3>
      <ReadMdnAction message={m} />
    </article>
  );
}

function DocumentCard({ doc: d }: { doc: InboxDocument }) {
  const openDocument = useInbox((s) => s.openDocument);
  const [importing, setImporting] = useState(false);
  const st = DOC_STATUS[d.status];
  return (
    <div className={`inbox-doc inbox-doc-${d.status}`} data-testid="inbox-document">
      <div className="inbox-doc-head">
        <strong>{d.title ?? d.documentId}</strong>
        <StatusBadge tone={st.tone} testId="inbox-doc-status">
          {st.label}
        </StatusBadge>
      </div>
      <p className="muted inbox-doc-help">
        {CLASSIFICATION[d.classification]}
        {d.version != null ? ` · version ${d.version}` : ''} — {st.help}
      </p>
      {d.error ? (
        <p className={`inbox-code ${d.status === 'rejected' ? 'inbox-code-error' : 'inbox-code-warning'}`} data-testid="inbox-doc-code">
          Code {d.error.code} : {d.error.label}
          {d.detail ? <small className="muted"> ({d.detail})</small> : null}
        </p>
      ) : null}
      <dl className="facts inbox-doc-facts">
        {d.typeLabel || d.typeCode ? (
          <>
            <dt>Type</dt>
            <dd>{d.typeLabel ?? d.typeCode}</dd>
          </>
        ) : null}
        {d.effectiveTime ? (
          <>
            <dt>Date du document</dt>
            <dd>{formatDateTime(d.effectiveTime)}</dd>
          </>
        ) : null}
        {d.authorName ? (
          <>
            <dt>Auteur</dt>
            <dd>{d.authorName}</dd>
          </>
        ) : null}
        {d.patientName ? (
          <>
            <dt>Patient du document</dt>
            <dd>
              {d.patientName}
              {d.patientBirthDate ? `, né(e) le ${formatDate(d.patientBirthDate)}` : ''}
              {d.patientIns ? (
                <>
                  {' '}
                  — INS <code>{d.patientIns}</code>
                </>
              ) : null}
            </dd>
          </>
        ) : null}
        {d.patient ? (
          <>
            <dt>Dossier local</dt>
            <dd data-testid="inbox-doc-patient">{d.patient.name}</dd>
          </>
        ) : null}
      </dl>
      <div className="row">
        {d.id != null && d.status !== 'rejected' ? (
          <button type="button" className="button" onClick={() => openDocument(d.id!)}>
            Ouvrir le document
          </button>
        ) : null}
        {d.status === 'queued' && d.id != null && !importing ? (
          <button type="button" className="button button-secondary" onClick={() => setImporting(true)}>
            Rattacher à un patient…
          </button>
        ) : null}
      </div>
      {importing && d.id != null ? <ImportPanel doc={d} onClose={() => setImporting(false)} /> : null}
    </div>
  );
}
