import { Fragment, useEffect, useMemo, useState, type FormEvent } from 'react';
import type { DmpDocument, DmpDocumentGroup } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { authorName, frDate, frDateTime, MASKING, maskingCodes, MODALITIES, statusOf } from './labels';
import { DEFAULT_FILTERS, useDmp, type StatusFilter } from './store';

type TypeOption = { code: string; scheme: string; label: string };
let typeCache: TypeOption[] | undefined;

/** The J07 document types (loaded once). */
function useTypeCodes(): { types?: TypeOption[]; error?: ApiError } {
  const [types, setTypes] = useState(typeCache);
  const [error, setError] = useState<ApiError>();
  useEffect(() => {
    if (typeCache) return;
    lps.invoke('dmp.typeCodes', {}).then(
      (r) => {
        typeCache = r.types;
        setTypes(r.types);
      },
      (e) => setError(toApiError(e)),
    );
  }, []);
  return { types, error };
}

const STATUS_CHOICES: { id: StatusFilter; label: string }[] = [
  { id: 'approved', label: 'Actifs' },
  { id: 'archived', label: 'Archivés' },
  { id: 'deprecated', label: 'Remplacés (sans version actuelle visible)' },
];

/** Badges of the document's visibility (masking) — "Visible par tous" when none. */
export function VisibilityBadges({ doc }: { doc: Pick<DmpDocument, 'masking'> }) {
  const codes = maskingCodes(doc);
  if (!codes.length) return <StatusBadge tone="neutral">Visible par tous</StatusBadge>;
  return (
    <span className="dmp-badges">
      {codes.map((c) => (
        <StatusBadge key={c} tone={MASKING[c].tone} testId={`badge-${c}`}>
          {MASKING[c].badge}
        </StatusBadge>
      ))}
    </span>
  );
}

function typeLabel(d: DmpDocument): string {
  return d.typeCode?.display || d.typeCode?.code || d.mimeType;
}

function DocRow({ doc, old, onOpen, versions, expanded, onToggle }: { doc: DmpDocument; old?: 'metadata' | 'replaced'; onOpen(): void; versions?: number; expanded?: boolean; onToggle?(): void }) {
  const st = statusOf(String(doc.status));
  return (
    <tr className={old ? 'dmp-old-row' : undefined} data-testid={old ? 'dmp-old-version' : 'dmp-doc-row'}>
      <td>
        {old ? <span className="dmp-old-mark" aria-hidden="true">↳ </span> : null}
        <button type="button" className="link-button dmp-doc-title" onClick={onOpen}>
          {doc.title || typeLabel(doc)}
        </button>
        <div className="muted dmp-small">
          {old === 'metadata' ? `Version ${doc.version ?? '?'} des informations (avant un changement de visibilité)` : old === 'replaced' ? 'Ancienne version du document (remplacée)' : typeLabel(doc)}
        </div>
      </td>
      <td>{frDateTime(doc.serviceStartTime ?? doc.creationTime)}</td>
      <td>{doc.authors.map(authorName).join(', ') || '—'}</td>
      <td>
        <StatusBadge tone={st.tone} testId="dmp-doc-status">
          {st.label}
        </StatusBadge>
      </td>
      <td>
        <VisibilityBadges doc={doc} />
      </td>
      <td>
        {versions ? (
          <button type="button" className="button button-secondary dmp-small-button" aria-expanded={expanded} onClick={onToggle}>
            {expanded ? 'Masquer' : 'Voir'} {versions} version{versions > 1 ? 's' : ''} antérieure{versions > 1 ? 's' : ''}
          </button>
        ) : null}
      </td>
    </tr>
  );
}

/** Filters (type J07, dates, status, modality) and the record's documents, old versions grouped under the current one. */
export function DocumentList() {
  const { filters, setFilters, search, groups, listError, listLoading, open } = useDmp();
  const { types, error: typesError } = useTypeCodes();
  const [expanded, setExpanded] = useState<Set<string>>(new Set());

  const present = useMemo(() => {
    const m = new Map<string, TypeOption>();
    for (const g of groups ?? []) if (g.current.typeCode) m.set(`${g.current.typeCode.code}^^${g.current.typeCode.scheme}`, { code: g.current.typeCode.code, scheme: g.current.typeCode.scheme, label: g.current.typeCode.display || g.current.typeCode.code });
    return [...m.entries()].sort((a, b) => a[1].label.localeCompare(b[1].label, 'fr'));
  }, [groups]);

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void search();
  };
  const toggleStatus = (id: StatusFilter, on: boolean) => setFilters({ statuses: on ? [...filters.statuses, id] : filters.statuses.filter((s) => s !== id) });
  const toggle = (g: DmpDocumentGroup) =>
    setExpanded((s) => {
      const n = new Set(s);
      if (n.has(g.current.entryUuid)) n.delete(g.current.entryUuid);
      else n.add(g.current.entryUuid);
      return n;
    });

  return (
    <div>
      <form className="filters dmp-filters" onSubmit={submit} aria-label="Filtrer les documents du DMP">
        <label>
          Type de document
          <select value={filters.type} onChange={(e) => setFilters({ type: e.target.value })} className="dmp-type-select">
            <option value="">Tous les types</option>
            {present.length ? (
              <optgroup label="Présents dans ce dossier">
                {present.map(([k, t]) => (
                  <option key={`p-${k}`} value={k}>
                    {t.label}
                  </option>
                ))}
              </optgroup>
            ) : null}
            {types ? (
              <optgroup label="Tous les types (nomenclature J07)">
                {types.map((t) => (
                  <option key={`${t.scheme}|${t.code}`} value={`${t.code}^^${t.scheme}`}>
                    {t.label}
                  </option>
                ))}
              </optgroup>
            ) : null}
          </select>
        </label>
        <label>
          Du
          <input type="date" value={filters.from} max={filters.to || undefined} onChange={(e) => setFilters({ from: e.target.value })} />
        </label>
        <label>
          Au
          <input type="date" value={filters.to} min={filters.from || undefined} onChange={(e) => setFilters({ to: e.target.value })} />
        </label>
        <label>
          Modalité d’imagerie
          <select value={filters.modality} onChange={(e) => setFilters({ modality: e.target.value })}>
            <option value="">Toutes</option>
            {MODALITIES.map((m) => (
              <option key={m.code} value={m.code}>
                {m.label}
              </option>
            ))}
          </select>
        </label>
        <fieldset className="dmp-status-filter">
          <legend>Statut</legend>
          {STATUS_CHOICES.map((c) => (
            <label key={c.id}>
              <input type="checkbox" checked={filters.statuses.includes(c.id)} onChange={(e) => toggleStatus(c.id, e.target.checked)} /> {c.label}
            </label>
          ))}
        </fieldset>
        <div className="row">
          <button type="submit" className="button" disabled={listLoading}>
            Rechercher
          </button>
          <button
            type="button"
            className="button button-secondary"
            onClick={() => {
              setFilters(DEFAULT_FILTERS);
              void search();
            }}
          >
            Réinitialiser
          </button>
        </div>
      </form>
      {typesError ? <ErrorNotice error={typesError} /> : null}
      {listError ? <ErrorNotice error={listError} onRetry={() => void search()} /> : null}
      {listLoading ? <Loading label="Recherche des documents dans le DMP…" /> : null}
      {groups && !listLoading && groups.length === 0 ? (
        <Empty title="Aucun document ne correspond à ces critères.">
          <p>Élargissez la période, choisissez « Tous les types » ou cochez « Archivés ».</p>
        </Empty>
      ) : null}
      {groups && groups.length > 0 ? (
        <table className="table dmp-table" aria-label="Documents du DMP">
          <caption>
            {groups.length} document{groups.length > 1 ? 's' : ''} dans le DMP
            {!listLoading ? <span className="muted dmp-small"> — les versions antérieures sont regroupées sous le document actuel</span> : null}
          </caption>
          <thead>
            <tr>
              <th scope="col">Document</th>
              <th scope="col">Date</th>
              <th scope="col">Auteur</th>
              <th scope="col">Statut</th>
              <th scope="col">Visibilité</th>
              <th scope="col">Versions</th>
            </tr>
          </thead>
          <tbody>
            {groups.map((g) => {
              const isOpen = expanded.has(g.current.entryUuid);
              return (
                <Fragment key={g.current.entryUuid}>
                  <DocRow doc={g.current} onOpen={() => open(g.current.uniqueId)} versions={g.previous.length} expanded={isOpen} onToggle={() => toggle(g)} />
                  {isOpen
                    ? g.previous.map((p) => (
                        <DocRow key={p.document.entryUuid} doc={p.document} old={p.kind} onOpen={() => open(p.kind === 'metadata' ? g.current.uniqueId : p.document.uniqueId)} />
                      ))
                    : null}
                </Fragment>
              );
            })}
          </tbody>
        </table>
      ) : null}
      {groups && groups.length > 0 ? <p className="muted dmp-small">Dates : date de l’acte (ou de création du document), heure de Paris. Mise à jour : {frDate(new Date().toISOString().slice(0, 10).replace(/-/g, ''))}.</p> : null}
    </div>
  );
}
