import { useCallback, useEffect, useState } from 'react';
import type { AuditEntry, AuditVerifyResult } from '../../../shared/api';
import type { ApiError } from '../../../shared/api/types';
import { lps, toApiError } from '../api';
import { ErrorNotice } from '../components/ErrorNotice';
import { Empty, Loading } from '../components/States';
import { formatDateTime } from '../format';

const OUTCOMES: Record<AuditEntry['outcome'], string> = { success: 'Succès', failure: 'Échec', info: 'Information' };
const PAGE = 50;

export function AuditScreen() {
  const [action, setAction] = useState('');
  const [text, setText] = useState('');
  const [outcome, setOutcome] = useState<'' | AuditEntry['outcome']>('');
  const [offset, setOffset] = useState(0);
  const [data, setData] = useState<{ total: number; entries: AuditEntry[] }>();
  const [error, setError] = useState<ApiError>();
  const [verify, setVerify] = useState<AuditVerifyResult>();

  const filter = useCallback(
    () => ({ action: action || undefined, text: text || undefined, outcome: outcome || undefined, limit: PAGE, offset }),
    [action, text, outcome, offset],
  );

  const load = useCallback(() => {
    setError(undefined);
    lps.invoke('audit.list', filter()).then(setData, (e) => setError(toApiError(e)));
  }, [filter]);

  useEffect(load, [load]);
  useEffect(() => lps.on('audit.appended', () => load()), [load]);

  const exportCsv = async () => {
    try {
      const { filename, csv } = await lps.invoke('audit.exportCsv', { ...filter(), offset: 0 });
      const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
      const a = document.createElement('a');
      a.href = url;
      a.download = filename;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
    } catch (e) {
      setError(toApiError(e));
    }
  };

  const runVerify = async () => {
    try {
      setVerify(await lps.invoke('audit.verify', {}));
    } catch (e) {
      setError(toApiError(e));
    }
  };

  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Traces</h1>
      <p className="lead">Journal inaltérable des flux et des actions : chaque ligne est chaînée à la précédente par une empreinte.</p>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setOffset(0);
          load();
        }}
      >
        <label>
          Action
          <input value={action} onChange={(e) => setAction(e.target.value)} placeholder="ex. mssante.send" />
        </label>
        <label>
          Recherche
          <input value={text} onChange={(e) => setText(e.target.value)} placeholder="objet, détail…" />
        </label>
        <label>
          Résultat
          <select value={outcome} onChange={(e) => setOutcome(e.target.value as typeof outcome)}>
            <option value="">Tous</option>
            <option value="success">Succès</option>
            <option value="failure">Échec</option>
            <option value="info">Information</option>
          </select>
        </label>
        <button type="submit" className="button">
          Filtrer
        </button>
        <button type="button" className="button button-secondary" onClick={exportCsv}>
          Exporter en CSV
        </button>
        <button type="button" className="button button-secondary" onClick={runVerify}>
          Vérifier l'intégrité
        </button>
      </form>
      {verify ? (
        <p className={`notice ${verify.ok ? 'notice-success' : 'notice-error'}`} role="status">
          {verify.ok
            ? `Intégrité vérifiée : ${verify.rows} ligne(s), aucune altération.`
            : `Traces altérées à partir de la ligne n° ${verify.brokenAt}. Prévenez votre référent sécurité.`}
        </p>
      ) : null}
      {error ? <ErrorNotice error={error} onRetry={load} /> : null}
      {!data && !error ? <Loading /> : null}
      {data && data.entries.length === 0 ? <Empty title="Aucune trace pour ces critères." /> : null}
      {data && data.entries.length > 0 ? (
        <>
          <table className="table" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">N°</th>
                <th scope="col">Date</th>
                <th scope="col">Acteur</th>
                <th scope="col">Action</th>
                <th scope="col">Objet</th>
                <th scope="col">Résultat</th>
              </tr>
            </thead>
            <tbody>
              {data.entries.map((e) => (
                <tr key={e.id}>
                  <td>{e.id}</td>
                  <td>{formatDateTime(e.at)}</td>
                  <td>{e.actor}</td>
                  <td>
                    <code>{e.action}</code>
                  </td>
                  <td>{e.subject ?? '—'}</td>
                  <td className={`outcome outcome-${e.outcome}`}>{OUTCOMES[e.outcome]}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <nav className="pager" aria-label="Pages">
            <button type="button" className="button button-secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
              Précédent
            </button>
            <span>
              {offset + 1}–{Math.min(offset + PAGE, data.total)} sur {data.total}
            </span>
            <button type="button" className="button button-secondary" disabled={offset + PAGE >= data.total} onClick={() => setOffset(offset + PAGE)}>
              Suivant
            </button>
          </nav>
        </>
      ) : null}
    </section>
  );
}
