import { Empty } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDateTime } from '../../format';
import { ackViews } from './labels';
import { useInbox } from './store';

/** Sent document messages with their acknowledgements: delivery (DSN), integration and reading (MDN). */
export function SentTab() {
  const sent = useInbox((s) => s.sent) ?? [];
  const allAccounts = useInbox((s) => !s.account);
  if (!sent.length) {
    return (
      <Empty title="Aucun message envoyé depuis cette boîte.">
        <p>Les documents partagés par messagerie apparaîtront ici avec leurs accusés de réception, d’intégration et de lecture.</p>
      </Empty>
    );
  }
  return (
    <div className="inbox-sent-wrap">
      <p className="muted">
        Les accusés arrivent dans votre boîte : cliquez sur « Relever » pour les recevoir. « Intégré » signifie que le logiciel du destinataire a
        rattaché le document au dossier du patient.
      </p>
      <table className="table inbox-sent" data-testid="inbox-sent">
        <caption className="sr-only">Messages envoyés et leurs accusés</caption>
        <thead>
          <tr>
            <th scope="col">Envoyé le</th>
            <th scope="col">Destinataire(s)</th>
            <th scope="col">Document(s)</th>
            <th scope="col">Remise</th>
            <th scope="col">Intégration</th>
            <th scope="col">Lecture</th>
          </tr>
        </thead>
        <tbody>
          {sent.map((m) => {
            const acks = ackViews(m);
            return (
              <tr key={m.id} data-testid="inbox-sent-row">
                <td>
                  {formatDateTime(m.sentAt ?? m.createdAt)}
                  {allAccounts ? <div className="muted inbox-small">{m.account}</div> : null}
                </td>
                <td>{m.recipients.join(', ')}</td>
                <td>
                  {m.documents.length ? m.documents.map((d) => d.title ?? d.id).join(', ') : m.subject}
                  {m.patientName ? <div className="muted inbox-small">Patient : {m.patientName}</div> : null}
                  {m.status === 'failed' && m.lastError ? <div className="inbox-code inbox-code-error">{m.lastError}</div> : null}
                </td>
                {m.status !== 'sent' ? (
                  <td colSpan={3}>
                    <StatusBadge tone={acks[0]!.view.tone}>{acks[0]!.view.label}</StatusBadge>
                  </td>
                ) : (
                  acks.map((a) => (
                    <td key={a.key} data-testid={`inbox-ack-${a.key}`}>
                      <StatusBadge tone={a.view.tone}>{a.view.label}</StatusBadge>
                      {a.key === 'integration' && m.error ? (
                        <div className="inbox-code inbox-code-error">
                          {m.error.code} : {m.error.label}
                        </div>
                      ) : null}
                    </td>
                  ))
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
