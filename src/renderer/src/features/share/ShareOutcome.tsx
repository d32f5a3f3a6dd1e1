import { useCallback, useEffect, useState } from 'react';
import type { ShareJobView } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Loading } from '../../components/States';
import { StatusBadge, type Tone } from '../../components/StatusBadge';
import { TaskProgress } from '../../components/TaskProgress';
import { formatDateTime } from '../../format';
import { useApp } from '../../store/app';
import { usePatient } from '../../store/patient';

type ChannelKey = 'mssante' | 'dmp';
const CHANNEL_LABEL: Record<ChannelKey, string> = { mssante: 'Messagerie sécurisée', dmp: 'DMP' };
const STATUS: Record<string, { tone: Tone; label: string }> = {
  pending: { tone: 'neutral', label: 'En attente' },
  running: { tone: 'info', label: 'En cours' },
  done: { tone: 'success', label: 'Réussi' },
  failed: { tone: 'error', label: 'Échec' },
};
const AUTH_CODES = new Set(['DMP_NO_AUTHORIZATION', 'DMP_AUTHORIZATION_EXPIRED']);

/** Outcome of a share: each channel with its own progress and result; a failure is resumed without redoing what succeeded. */
export function ShareOutcome({ jobId, onRestart }: { jobId: string; onRestart(): void }) {
  const [job, setJob] = useState<ShareJobView>();
  const [error, setError] = useState<ApiError>();
  const [resuming, setResuming] = useState(false);
  const [consent, setConsent] = useState(false);
  const patient = usePatient((s) => s.current);
  const go = useApp((s) => s.go);

  const load = useCallback(() => lps.invoke('share.get', { jobId }).then(setJob, (e) => setError(toApiError(e))), [jobId]);
  useEffect(() => {
    void load();
    const off = lps.on('task.progress', (p) => {
      if (p.taskId.startsWith(`share:${jobId}:`)) void load();
    });
    return off;
  }, [jobId, load]);
  // Follow until every channel has finished (events may be missed while the page reloads).
  useEffect(() => {
    if (job?.state !== 'running') return;
    const t = setInterval(() => void load(), 700);
    return () => clearInterval(t);
  }, [job?.state, load]);

  const resume = async () => {
    setResuming(true);
    setError(undefined);
    try {
      await lps.invoke('share.resume', { jobId });
      await load();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setResuming(false);
    }
  };
  const authorizeAndResume = async () => {
    if (!patient) return;
    setResuming(true);
    setError(undefined);
    try {
      const c = await lps.invoke('share.authorize', { patientId: patient.id, consent: true });
      if (!c.canPublish) throw Object.assign(new Error(c.message), { code: c.state });
      await lps.invoke('share.resume', { jobId });
      await load();
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setResuming(false);
    }
  };

  if (!job) return error ? <ErrorNotice error={error} onRetry={() => void load()} /> : <Loading label="Envoi en cours…" />;
  const keys = (['mssante', 'dmp'] as const).filter((k) => job.channels[k]);
  const dmpAuthFailure = job.channels.dmp?.status === 'failed' && AUTH_CODES.has(job.channels.dmp.error?.code ?? '');

  return (
    <div className="share-outcome" data-testid="share-outcome" data-state={job.state}>
      <div className={`notice ${job.state === 'done' ? 'notice-success' : job.state === 'running' ? 'notice-info' : 'notice-error'}`} role="status" aria-live="polite">
        <p className="notice-title" data-testid="share-overall">
          {job.state === 'running'
            ? 'Envoi en cours sur les deux canaux…'
            : job.state === 'done'
              ? keys.length > 1
                ? 'Partage réussi : message envoyé et document déposé dans le DMP.'
                : 'Partage réussi.'
              : job.state === 'partial'
                ? 'Partage incomplet : une partie a réussi, l’autre a échoué. Reprenez l’envoi : ce qui a réussi ne sera pas renvoyé.'
                : 'Le partage a échoué. Corrigez la cause indiquée puis reprenez l’envoi.'}
        </p>
      </div>
      <div className="share-channels-outcome">
        {keys.map((k) => {
          const c = job.channels[k]!;
          const s = STATUS[c.status] ?? STATUS.pending!;
          return (
            <article key={k} className={`share-channel share-channel-${c.status}`} data-testid={`share-channel-${k}`} aria-label={CHANNEL_LABEL[k]}>
              <header className="row">
                <h3>{CHANNEL_LABEL[k]}</h3>
                <StatusBadge tone={s.tone} testId={`share-status-${k}`}>
                  {s.label}
                </StatusBadge>
                {c.attempts > 1 ? <small className="muted">{c.attempts} tentatives</small> : null}
              </header>
              {c.status === 'running' || c.status === 'pending' ? <TaskProgress taskId={`share:${job.id}:${k}`} fallbackLabel="Démarrage…" /> : null}
              {c.status === 'done' && k === 'mssante' ? (
                <p>
                  Message envoyé à {job.recipients.join(', ')}
                  {c.result?.sentAt ? ` le ${formatDateTime(c.result.sentAt)}` : ''}.
                  {job.acks ? <Acks acks={job.acks} /> : null}
                </p>
              ) : null}
              {c.status === 'done' && k === 'dmp' ? (
                <p>
                  Document déposé dans le DMP
                  {c.result?.outcome === 'already-published' || c.result?.outcome === 'confirmed-after-timeout' ? ' (déjà présent : non redéposé)' : ''}.
                  {job.masking && (job.masking.maskPs || job.masking.invisiblePatient || job.masking.invisibleLegalReps)
                    ? ` Confidentialité : ${[job.masking.maskPs ? 'masqué aux PS' : '', job.masking.invisiblePatient ? 'invisible au patient' : '', job.masking.invisibleLegalReps ? 'invisible aux représentants légaux' : ''].filter(Boolean).join(', ')}.`
                    : ' Visible normalement.'}
                  <br />
                  <small className="muted">Identifiant : {c.result?.uniqueId}</small>
                </p>
              ) : null}
              {c.status === 'failed' && c.error ? <ErrorNotice error={c.error} /> : null}
            </article>
          );
        })}
      </div>
      {error ? <ErrorNotice error={error} /> : null}
      {job.state === 'partial' || job.state === 'failed' ? (
        <div className="share-resume">
          {dmpAuthFailure ? (
            <>
              <label className="share-check">
                <input type="checkbox" checked={consent} onChange={(e) => setConsent(e.target.checked)} />
                <span>J'ai recueilli le consentement du patient : enregistrer mon autorisation d'accès au DMP avant de reprendre.</span>
              </label>
              <div className="row">
                <button type="button" className="button" disabled={!consent || resuming} onClick={() => void authorizeAndResume()}>
                  Enregistrer l'autorisation et reprendre
                </button>
                <button type="button" className="button button-secondary" disabled={resuming} onClick={() => void resume()}>
                  Reprendre
                </button>
              </div>
            </>
          ) : (
            <button type="button" className="button" disabled={resuming} onClick={() => void resume()}>
              {resuming ? 'Reprise…' : 'Reprendre'}
            </button>
          )}
          <p className="muted">
            {keys
              .filter((k) => job.channels[k]?.status === 'done')
              .map((k) => `${CHANNEL_LABEL[k]} : déjà réussi, ne sera pas refait.`)
              .join(' ')}
          </p>
        </div>
      ) : null}
      {job.state !== 'running' ? (
        <div className="row">
          <button type="button" className="button button-secondary" onClick={onRestart}>
            Partager un autre document
          </button>
          {job.channels.mssante ? (
            <button type="button" className="button button-secondary" onClick={() => go('inbox')}>
              Suivre les accusés dans la messagerie
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}

export function Acks({ acks }: { acks: NonNullable<ShareJobView['acks']> }) {
  const parts: { tone: Tone; label: string }[] = [];
  if (acks.delivery) parts.push({ tone: acks.delivery === 'failed' ? 'error' : 'success', label: acks.delivery === 'failed' ? 'non remis' : 'remis' });
  if (acks.read) parts.push({ tone: 'success', label: 'lu' });
  if (acks.integration) parts.push({ tone: acks.integration === 'failed' || acks.integration === 'rejected' ? 'error' : 'success', label: acks.integration === 'integrated' ? 'intégré' : `${acks.integration}${acks.code ? ` (${acks.code})` : ''}` });
  if (!parts.length) return <span className="muted"> En attente des accusés.</span>;
  return (
    <span className="share-acks">
      {' '}
      {parts.map((p) => (
        <StatusBadge key={p.label} tone={p.tone}>
          {p.label}
        </StatusBadge>
      ))}
    </span>
  );
}
