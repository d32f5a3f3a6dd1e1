import { useEffect, useState } from 'react';
import type { InboxDocument, Patient } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { formatDate } from '../../format';
import { patientName } from '../../store/patient';
import { useToasts } from '../../store/toasts';
import { arrowNav } from './ReceivedTab';
import { useInbox } from './store';

/**
 * Manual import of a queued document: search a local patient, compare the identities side by side, and
 * confirm — the consequence (the document joins that record, traced) is said before the action.
 */
export function ImportPanel({ doc, onClose }: { doc: InboxDocument; onClose(): void }) {
  const refresh = useInbox((s) => s.refresh);
  const pushToast = useToasts((s) => s.push);
  const [text, setText] = useState(doc.patientName?.split(' ')[0] ?? '');
  const [list, setList] = useState<Patient[]>();
  const [error, setError] = useState<ApiError>();
  const [chosen, setChosen] = useState<Patient>();
  const [busy, setBusy] = useState(false);

  const search = (t = text) => {
    setError(undefined);
    setList(undefined);
    lps.invoke('patients.list', { text: t.trim() || undefined, limit: 50 }).then(setList, (e) => setError(toApiError(e)));
  };
  useEffect(() => search(), []);

  const confirm = async () => {
    if (!chosen || doc.id == null) return;
    setBusy(true);
    setError(undefined);
    try {
      await lps.invoke('mssante.documents.attach', { id: doc.id, patientId: chosen.id });
      pushToast({ level: 'success', title: 'Document rattaché', body: `${doc.title ?? 'Le document'} est intégré au dossier de ${patientName(chosen)}.` });
      setChosen(undefined);
      onClose();
      await refresh();
    } catch (err) {
      setError(toApiError(err));
      setChosen(undefined);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="inbox-import" role="group" aria-labelledby={`import-title-${doc.id}`}>
      <h4 id={`import-title-${doc.id}`}>Rattacher à un patient</h4>
      <form
        className="row"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          search();
        }}
      >
        <label className="sr-only" htmlFor={`import-search-${doc.id}`}>
          Rechercher le patient
        </label>
        <input id={`import-search-${doc.id}`} value={text} onChange={(e) => setText(e.target.value)} placeholder="Nom, INS ou IPP" autoFocus />
        <button type="submit" className="button">
          Rechercher
        </button>
        <button type="button" className="button button-secondary" onClick={onClose}>
          Annuler
        </button>
      </form>
      {error ? <ErrorNotice error={error} /> : null}
      {!list && !error ? <Loading label="Recherche des patients…" /> : null}
      {list && list.length === 0 ? (
        <Empty title="Aucun patient ne correspond.">
          <p>Créez d’abord le patient dans l’écran « Patients », avec ses traits d’identité vérifiés.</p>
        </Empty>
      ) : null}
      {list && list.length > 0 ? (
        <ul className="list inbox-import-list" aria-label="Patients trouvés" onKeyDown={arrowNav}>
          {list.map((p) => (
            <li key={p.id}>
              <button type="button" className="list-item inbox-item" onClick={() => setChosen(p)} disabled={busy}>
                <strong>{patientName(p)}</strong> <span className="muted">— {p.gender === 'F' ? 'née' : 'né'} le {formatDate(p.birthDate)}</span>{' '}
                {p.ins ? <StatusBadge tone={p.insQualified ? 'success' : 'warning'}>{p.insQualified ? 'INS qualifiée' : 'INS non qualifiée'}</StatusBadge> : null}
              </button>
            </li>
          ))}
        </ul>
      ) : null}
      <ConfirmDialog
        open={!!chosen}
        title="Rattacher ce document au dossier de ce patient ?"
        confirmLabel={busy ? 'Rattachement…' : 'Rattacher le document'}
        onConfirm={() => void confirm()}
        onCancel={() => setChosen(undefined)}
      >
        {chosen ? (
          <>
            <p>
              Le document <strong>{doc.title ?? doc.documentId}</strong> sera intégré au dossier de <strong>{patientName(chosen)}</strong> et
              apparaîtra dans son historique. Comparez les identités : un rattachement au mauvais patient expose ses données de santé dans le
              dossier d’un autre. L’action est enregistrée dans les traces.
            </p>
            <table className="table inbox-compare">
              <thead>
                <tr>
                  <th scope="col" />
                  <th scope="col">Dans le document</th>
                  <th scope="col">Dossier choisi</th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <th scope="row">Nom, prénom</th>
                  <td>{doc.patientName ?? '—'}</td>
                  <td>{patientName(chosen)}</td>
                </tr>
                <tr>
                  <th scope="row">Naissance</th>
                  <td>{formatDate(doc.patientBirthDate)}</td>
                  <td>{formatDate(chosen.birthDate)}</td>
                </tr>
                <tr>
                  <th scope="row">INS</th>
                  <td>{doc.patientIns ?? '—'}</td>
                  <td>{chosen.ins ?? '—'}</td>
                </tr>
              </tbody>
            </table>
            {doc.patientIns && chosen.ins && doc.patientIns !== chosen.ins ? (
              <p className="notice notice-warning">Attention : l’INS du document diffère de celle de ce dossier.</p>
            ) : null}
            {doc.patientIns && !chosen.ins ? (
              <p className="notice notice-warning">Ce dossier n’a pas d’INS : vérifiez l’identité du patient (pièce d’identité, téléservice INSi) avant de rattacher.</p>
            ) : null}
          </>
        ) : null}
      </ConfirmDialog>
    </div>
  );
}
