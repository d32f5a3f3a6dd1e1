import { useEffect, useState } from 'react';
import type { ShareJobView } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { StatusBadge, type Tone } from '../../components/StatusBadge';
import { formatDateTime } from '../../format';
import { Acks } from './ShareOutcome';

const STATE: Record<ShareJobView['state'], { tone: Tone; label: string }> = {
  running: { tone: 'info', label: 'En cours' },
  done: { tone: 'success', label: 'Réussi' },
  partial: { tone: 'warning', label: 'Incomplet' },
  failed: { tone: 'error', label: 'Échec' },
};
const CH: Record<string, string> = { pending: 'en attente', running: 'en cours', done: 'réussi', failed: 'échec' };

/** The latest shares with each channel's outcome and the acknowledgements received. */
export function RecentShares() {
  const [list, setList] = useState<ShareJobView[]>();
  const [error, setError] = useState<ApiError>();
  const load = () => lps.invoke('share.list', { limit: 10 }).then(setList, (e) => setError(toApiError(e)));
  useEffect(() => void load(), []);
  return (
    <section className="panel share-recent" aria-labelledby="share-recent-title">
      <h2 id="share-recent-title">Partages récents</h2>
      {error ? <ErrorNotice error={error} onRetry={() => void load()} /> : null}
      {!list && !error ? <Loading /> : null}
      {list && list.length === 0 ? <Empty title="Aucun partage pour l'instant." /> : null}
      {list && list.length > 0 ? (
        <table className="table">
          <caption className="sr-only">Partages récents</caption>
          <thead>
            <tr>
              <th scope="col">Date</th>
              <th scope="col">Document</th>
              <th scope="col">Patient</th>
              <th scope="col">Messagerie</th>
              <th scope="col">DMP</th>
              <th scope="col">État</th>
            </tr>
          </thead>
          <tbody>
            {list.map((j) => (
              <tr key={j.id}>
                <td>{formatDateTime(j.createdAt)}</td>
                <td>{j.title}</td>
                <td>{j.patientName ?? j.patientIns ?? '—'}</td>
                <td>
                  {j.channels.mssante ? (
                    <>
                      {CH[j.channels.mssante.status]}
                      {j.acks && j.channels.mssante.status === 'done' ? <Acks acks={j.acks} /> : null}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td>{j.channels.dmp ? CH[j.channels.dmp.status] : '—'}</td>
                <td>
                  <StatusBadge tone={STATE[j.state].tone}>{STATE[j.state].label}</StatusBadge>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
