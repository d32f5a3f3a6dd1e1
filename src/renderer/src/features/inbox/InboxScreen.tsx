import { useEffect, useRef, type KeyboardEvent } from 'react';
import { INBOX_SYNC_TASK } from '../../../../shared/api/inbox';
import { lps } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Loading } from '../../components/States';
import { TaskProgress } from '../../components/TaskProgress';
import { useApp } from '../../store/app';
import { ReceivedTab } from './ReceivedTab';
import { SentTab } from './SentTab';
import { useInbox, type InboxTab } from './store';

const KIND: Record<string, string> = { PER: 'Boîtes personnelles', ORG: 'Boîtes organisationnelles (service)', APP: 'Boîtes applicatives (logiciel)' };

/** Messagerie: received MSSanté documents and their integration, sent messages and their acknowledgements. */
export function InboxScreen() {
  const { tab, setTab, accounts, account, setAccount, messages, sent, error, load, refresh, sync, syncing, lastSync, syncError } = useInbox();
  const clearUnseen = useApp((s) => s.clearUnseen);

  useEffect(() => {
    void load();
  }, [load]);
  // New documents arriving while the screen is open (IMAP IDLE, another sync): refresh the lists.
  useEffect(() => {
    let t: ReturnType<typeof setTimeout> | undefined;
    const off = lps.on('notification', () => {
      clearTimeout(t);
      t = setTimeout(() => void refresh(), 300);
    });
    return () => (clearTimeout(t), off());
  }, [refresh]);
  useEffect(() => {
    if (lastSync) clearUnseen();
  }, [lastSync, clearUnseen]);

  const toImport = (messages ?? []).reduce((n, m) => n + m.documents.filter((d) => d.status === 'queued').length, 0);
  const failedAccounts = lastSync?.accounts.filter((a) => !a.ok) ?? [];

  return (
    <section aria-labelledby="inbox-title" className="inbox">
      <h1 id="inbox-title">Messagerie</h1>
      <p className="lead">
        Documents reçus par messagerie sécurisée de santé (MSSanté) : ils sont intégrés automatiquement quand l’INS qualifiée du patient est
        reconnue, sinon ils attendent votre rattachement. L’onglet « Envoyés » montre les accusés de vos envois.
      </p>
      <div className="inbox-toolbar">
        <label className="inbox-account">
          Boîte aux lettres
          <select value={account} onChange={(e) => setAccount(e.target.value)} disabled={!accounts?.length}>
            <option value="">Toutes les boîtes</option>
            {(['PER', 'ORG', 'APP'] as const).map((kind) => {
              const of = (accounts ?? []).filter((a) => a.kind === kind);
              return of.length ? (
                <optgroup key={kind} label={KIND[kind]}>
                  {of.map((a) => (
                    <option key={a.address} value={a.address}>
                      {a.displayName ? `${a.displayName} (${a.address})` : a.address}
                    </option>
                  ))}
                </optgroup>
              ) : null;
            })}
          </select>
        </label>
        <button type="button" className="button" onClick={() => void sync()} disabled={syncing || !accounts?.length} aria-describedby="inbox-sync-help">
          {syncing ? 'Relève en cours…' : 'Relever'}
        </button>
        <span id="inbox-sync-help" className="sr-only">
          Interroge maintenant le serveur de messagerie et intègre les nouveaux documents.
        </span>
        <div className="inbox-sync-state" aria-live="polite">
          {syncing ? <TaskProgress taskId={INBOX_SYNC_TASK} fallbackLabel="Connexion au serveur de messagerie…" /> : null}
        </div>
      </div>
      {accounts && accounts.length === 0 && !error ? (
        <p className="notice notice-warning">
          Aucune boîte aux lettres MSSanté n’est configurée dans ce profil. Démarrez le bac à sable (<code>lps sandbox up</code>) ou renseignez vos
          boîtes dans les paramètres.
        </p>
      ) : null}
      {syncError ? <ErrorNotice error={syncError} onRetry={() => void sync()} /> : null}
      {failedAccounts.map((a) => (a.error ? <ErrorNotice key={a.account} error={{ ...a.error, message: `${a.account} : ${a.error.message}` }} /> : null))}
      {lastSync && !syncError ? <SyncSummaryLine summary={lastSync} /> : null}
      {error ? <ErrorNotice error={error} onRetry={() => void load()} /> : null}
      <Tabs
        tab={tab}
        onTab={setTab}
        labels={{
          received: `Reçus${messages ? ` (${messages.length})` : ''}`,
          sent: `Envoyés${sent ? ` (${sent.length})` : ''}`,
        }}
        badge={toImport > 0 ? `${toImport} à importer` : undefined}
      />
      <div role="tabpanel" id={`inbox-panel-${tab}`} aria-labelledby={`inbox-tab-${tab}`} className="inbox-panel">
        {!messages && !error ? <Loading label="Chargement des messages…" /> : null}
        {messages && tab === 'received' ? <ReceivedTab /> : null}
        {sent && tab === 'sent' ? <SentTab /> : null}
      </div>
    </section>
  );
}

function SyncSummaryLine({ summary }: { summary: NonNullable<ReturnType<typeof useInbox.getState>['lastSync']> }) {
  const ok = summary.accounts.filter((a) => a.ok);
  if (!ok.length) return null;
  const sum = (k: 'integrated' | 'queued' | 'rejected' | 'reports' | 'examined') => ok.reduce((n, a) => n + a[k], 0);
  const parts = [
    ...(sum('integrated') ? [`${sum('integrated')} document(s) intégré(s)`] : []),
    ...(sum('queued') ? [`${sum('queued')} à importer`] : []),
    ...(sum('rejected') ? [`${sum('rejected')} rejeté(s)`] : []),
    ...(sum('reports') ? [`${sum('reports')} accusé(s) reçu(s) pour vos envois`] : []),
  ];
  if (!parts.length) parts.push('aucun document de santé');
  return (
    <p className="notice notice-success inbox-sync-summary" role="status" data-testid="inbox-sync-summary">
      {sum('examined') === 0 ? 'Relève terminée : aucun nouveau message.' : `Relève terminée : ${sum('examined')} nouveau(x) message(s) — ${parts.join(', ')}.`}
    </p>
  );
}

function Tabs({ tab, onTab, labels, badge }: { tab: InboxTab; onTab(t: InboxTab): void; labels: Record<InboxTab, string>; badge?: string }) {
  const refs = useRef<Record<InboxTab, HTMLButtonElement | null>>({ received: null, sent: null });
  const order: InboxTab[] = ['received', 'sent'];
  const onKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft' && e.key !== 'Home' && e.key !== 'End') return;
    e.preventDefault();
    const i = order.indexOf(tab);
    const next = e.key === 'Home' ? order[0]! : e.key === 'End' ? order[order.length - 1]! : order[(i + (e.key === 'ArrowRight' ? 1 : order.length - 1)) % order.length]!;
    onTab(next);
    refs.current[next]?.focus();
  };
  return (
    <div className="inbox-tabs" role="tablist" aria-label="Messages" onKeyDown={onKey}>
      {order.map((t) => (
        <button
          key={t}
          ref={(el) => {
            refs.current[t] = el;
          }}
          type="button"
          role="tab"
          id={`inbox-tab-${t}`}
          aria-selected={tab === t}
          aria-controls={`inbox-panel-${t}`}
          tabIndex={tab === t ? 0 : -1}
          className={`inbox-tab${tab === t ? ' active' : ''}`}
          onClick={() => onTab(t)}
        >
          {labels[t]}
          {t === 'received' && badge ? <span className="inbox-tab-badge">{badge}</span> : null}
        </button>
      ))}
    </div>
  );
}
