import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { DirectoryEntry, ShareDmpCheck, ShareDraft, ShareJobView } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Field } from '../../components/Field';
import { PatientBanner } from '../../components/PatientBanner';
import { Empty, Loading } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { Stepper } from '../../components/Stepper';
import { formatDate } from '../../format';
import { useApp } from '../../store/app';
import { usePatient } from '../../store/patient';
import { ShareOutcome } from './ShareOutcome';
import { RecentShares } from './RecentShares';

const MAX_BYTES = 20 * 1024 * 1024;

type StepId = 'document' | 'channels' | 'dmp' | 'confidentiality' | 'recipients' | 'message' | 'send';
const STEP_LABELS: Record<StepId, string> = {
  document: 'Document',
  channels: 'Canaux',
  dmp: 'Accès au DMP',
  confidentiality: 'Confidentialité',
  recipients: 'Destinataires',
  message: 'Message',
  send: 'Envoi',
};

interface Masking {
  maskPs: boolean;
  invisiblePatient: boolean;
  invisibleLegalReps: boolean;
}

function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error ?? new Error('lecture impossible'));
    r.readAsDataURL(file);
  });
}

/** The Y-mode wizard: one document to a correspondent by MSSanté and into the patient's DMP, in one action. */
export function ShareScreen() {
  const patient = usePatient((s) => s.current);
  const go = useApp((s) => s.go);
  const [stepIndex, setStepIndex] = useState(0);
  const [draft, setDraft] = useState<ShareDraft>();
  const [channels, setChannels] = useState({ mssante: true, dmp: true });
  const [dmpCheck, setDmpCheck] = useState<ShareDmpCheck>();
  const [masking, setMasking] = useState<Masking>({ maskPs: false, invisiblePatient: false, invisibleLegalReps: false });
  const [from, setFrom] = useState('');
  const [to, setTo] = useState<{ address: string; label: string }[]>([]);
  const [toPatient, setToPatient] = useState(false);
  const [closeChannel, setCloseChannel] = useState(false);
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [ack, setAck] = useState({ delivery: true, read: true });
  const [jobId, setJobId] = useState<string>();
  const headingRef = useRef<HTMLHeadingElement>(null);

  const steps: StepId[] = useMemo(
    () => ['document', 'channels', ...(channels.dmp ? (['dmp', 'confidentiality'] as const) : []), ...(channels.mssante ? (['recipients', 'message'] as const) : []), 'send'],
    [channels],
  );
  const step = steps[Math.min(stepIndex, steps.length - 1)]!;
  useEffect(() => headingRef.current?.focus(), [step]);

  // A new patient: start again.
  useEffect(() => {
    setStepIndex(0);
    setDraft(undefined);
    setJobId(undefined);
    setDmpCheck(undefined);
    setTo([]);
    setToPatient(false);
    setCloseChannel(false);
  }, [patient?.id]);

  if (!patient) {
    return (
      <section aria-labelledby="share-title">
        <h1 id="share-title">Partager un document</h1>
        <Empty title="Choisissez d'abord le patient concerné par le document.">
          <button type="button" className="button" onClick={() => go('patients')}>
            Choisir un patient
          </button>
        </Empty>
        <RecentShares />
      </section>
    );
  }

  const onDraft = (d: ShareDraft) => {
    setDraft(d);
    setSubject(d.subject);
    setBody(d.body);
    setFrom(d.senders.find((s) => s.kind === 'PER')?.address ?? d.senders[0]?.address ?? '');
    setJobId(undefined);
  };
  const next = () => setStepIndex((i) => Math.min(i + 1, steps.length - 1));
  const back = () => setStepIndex((i) => Math.max(i - 1, 0));
  const restart = () => {
    setStepIndex(0);
    setDraft(undefined);
    setJobId(undefined);
    setTo([]);
    setToPatient(false);
    setCloseChannel(false);
    setMasking({ maskPs: false, invisiblePatient: false, invisibleLegalReps: false });
  };

  const canNext: Record<StepId, boolean> = {
    document: !!draft,
    channels: channels.dmp || channels.mssante,
    dmp: !!dmpCheck?.canPublish,
    confidentiality: true,
    recipients: !!from && (to.length > 0 || toPatient),
    message: subject.trim().length > 0,
    send: false,
  };

  return (
    <section aria-labelledby="share-title" className="share">
      <h1 id="share-title">Partager un document</h1>
      <PatientBanner />
      <Stepper steps={steps.map((s) => STEP_LABELS[s])} current={steps.indexOf(step)} />
      <div className="panel share-panel">
        <h2 ref={headingRef} tabIndex={-1} className="share-step-title">
          {STEP_LABELS[step]}
        </h2>
        {step === 'document' ? <DocumentStep patientId={patient.id} draft={draft} onDraft={onDraft} /> : null}
        {step === 'channels' ? <ChannelsStep channels={channels} onChange={setChannels} draft={draft!} /> : null}
        {step === 'dmp' ? <DmpStep patientId={patient.id} check={dmpCheck} onCheck={setDmpCheck} /> : null}
        {step === 'confidentiality' ? <ConfidentialityStep masking={masking} onChange={setMasking} /> : null}
        {step === 'recipients' ? (
          <RecipientsStep
            draft={draft!}
            from={from}
            onFrom={setFrom}
            to={to}
            onTo={setTo}
            toPatient={toPatient}
            onToPatient={(v) => {
              setToPatient(v);
              if (!v) setCloseChannel(false);
            }}
            closeChannel={closeChannel}
            onCloseChannel={setCloseChannel}
          />
        ) : null}
        {step === 'message' ? <MessageStep subject={subject} onSubject={setSubject} body={body} onBody={setBody} ack={ack} onAck={setAck} /> : null}
        {step === 'send' && draft ? (
          jobId ? (
            <ShareOutcome jobId={jobId} onRestart={restart} />
          ) : (
            <SendStep
              draft={draft}
              channels={channels}
              masking={masking}
              from={from}
              to={to.map((t) => t.address)}
              toPatient={toPatient}
              closeChannel={closeChannel}
              subject={subject}
              body={body}
              ack={ack}
              onSent={setJobId}
            />
          )
        ) : null}
        {!jobId ? (
          <div className="share-nav">
            {stepIndex > 0 ? (
              <button type="button" className="button button-secondary" onClick={back}>
                Précédent
              </button>
            ) : (
              <span />
            )}
            {step !== 'send' ? (
              <button type="button" className="button" onClick={next} disabled={!canNext[step]}>
                Suivant
              </button>
            ) : null}
          </div>
        ) : null}
      </div>
      {step === 'document' ? <RecentShares /> : null}
    </section>
  );
}

function DocumentStep({ patientId, draft, onDraft }: { patientId: number; draft?: ShareDraft; onDraft(d: ShareDraft): void }) {
  const [types, setTypes] = useState<{ code: string; label: string; common: boolean }[]>();
  const [file, setFile] = useState<File>();
  const [typeCode, setTypeCode] = useState('11488-4');
  const [title, setTitle] = useState('');
  const [titleTouched, setTitleTouched] = useState(false);
  const [date, setDate] = useState(today());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [fileError, setFileError] = useState<string>();

  useEffect(() => {
    lps.invoke('share.documentTypes', {}).then(setTypes, (e) => setError(toApiError(e)));
  }, []);
  const typeLabel = types?.find((t) => t.code === typeCode)?.label ?? '';
  useEffect(() => {
    if (!titleTouched && typeLabel) setTitle(typeLabel === 'CR ou fiche de consultation ou de visite' ? 'Compte rendu de consultation' : typeLabel);
  }, [typeLabel, titleTouched]);

  const isCda = !!file && /\.xml$/i.test(file.name);
  const prepare = async () => {
    if (!file) return;
    setError(undefined);
    setBusy(true);
    try {
      const b64 = await readBase64(file);
      const d = await lps.invoke('share.prepare', {
        patientId,
        source: isCda ? { kind: 'cda', fileName: file.name, cdaBase64: b64 } : { kind: 'pdf', fileName: file.name, pdfBase64: b64 },
        ...(isCda ? {} : { typeCode, title: title.trim(), date }),
      });
      onDraft(d);
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="share-step">
      <p className="lead">Choisissez un compte rendu au format PDF (il sera mis au format CDA à votre nom) ou un document CDA déjà produit par votre logiciel.</p>
      <div className="form-grid">
        <Field id="share-file" label="Fichier PDF ou CDA" help="PDF ou XML (CDA R2), 20 Mo au plus." error={fileError}>
          <input
            id="share-file"
            type="file"
            accept=".pdf,application/pdf,.xml,text/xml,application/xml"
            onChange={(e) => {
              const f = e.target.files?.[0];
              setFileError(undefined);
              if (f && f.size > MAX_BYTES) {
                setFileError('Ce fichier dépasse 20 Mo.');
                setFile(undefined);
                return;
              }
              setFile(f);
            }}
          />
        </Field>
        {!isCda ? (
          <>
            <Field id="share-type" label="Type de document" help="Terminologie nationale des types de documents (JDV J07).">
              {types ? (
                <select id="share-type" value={typeCode} onChange={(e) => setTypeCode(e.target.value)}>
                  <optgroup label="Les plus courants">
                    {types.filter((t) => t.common).map((t) => (
                      <option key={t.code} value={t.code}>
                        {t.label}
                      </option>
                    ))}
                  </optgroup>
                  <optgroup label="Tous les types">
                    {types.filter((t) => !t.common).map((t) => (
                      <option key={t.code} value={t.code}>
                        {t.label}
                      </option>
                    ))}
                  </optgroup>
                </select>
              ) : (
                <Loading label="Chargement des types…" />
              )}
            </Field>
            <Field id="share-doc-title" label="Titre">
              <input
                id="share-doc-title"
                value={title}
                maxLength={200}
                onChange={(e) => {
                  setTitle(e.target.value);
                  setTitleTouched(true);
                }}
              />
            </Field>
            <Field id="share-date" label="Date de l'acte">
              <input id="share-date" type="date" value={date} max={today()} onChange={(e) => setDate(e.target.value)} />
            </Field>
          </>
        ) : (
          <p className="muted">Le type, le titre et l'auteur sont ceux du document CDA.</p>
        )}
      </div>
      <div className="row">
        <button type="button" className="button" disabled={!file || busy || (!isCda && (!title.trim() || !date))} onClick={() => void prepare()}>
          {busy ? 'Préparation…' : 'Préparer le document'}
        </button>
        {busy ? <Loading label="Mise au format CDA et chiffrement local…" /> : null}
      </div>
      {error ? <ErrorNotice error={error} /> : null}
      {draft ? (
        <div className="notice notice-success share-draft" data-testid="share-draft">
          <p className="notice-title">Document prêt : « {draft.title} »</p>
          <dl className="facts">
            <Fact label="Type">{draft.typeLabel}</Fact>
            <Fact label="Date de l'acte">{formatDate(draft.date)}</Fact>
            <Fact label="Auteur">
              {draft.author.name}
              {draft.author.organization ? ` — ${draft.author.organization}` : ''}
            </Fact>
            <Fact label="Patient">
              {draft.patient.name} {draft.patient.ins ? `(INS ${draft.patient.ins}${draft.patient.insQualified ? ', qualifiée' : ', non qualifiée'})` : ''}
            </Fact>
            <Fact label="Identifiant">
              <code>{draft.documentId}</code>
            </Fact>
            <Fact label="Taille">{`${Math.max(1, Math.round(draft.size / 1024))} Ko`}</Fact>
          </dl>
        </div>
      ) : null}
    </div>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="facts-row">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function ChannelsStep({ channels, onChange, draft }: { channels: { mssante: boolean; dmp: boolean }; onChange(c: { mssante: boolean; dmp: boolean }): void; draft: ShareDraft }) {
  return (
    <div className="share-step">
      <p className="lead">« {draft.title} » peut être envoyé à vos correspondants et déposé dans le DMP du patient en une seule action (mode Y).</p>
      <fieldset className="choices share-channels">
        <legend>Canaux de partage</legend>
        <label>
          <input type="checkbox" checked={channels.mssante} onChange={(e) => onChange({ ...channels, mssante: e.target.checked })} />
          <span>
            <strong>Messagerie sécurisée de santé (MSSanté)</strong>
            <br />
            <small className="muted">Envoi chiffré à un confrère, un établissement ou à la messagerie Mon espace santé du patient.</small>
          </span>
        </label>
        <label>
          <input type="checkbox" checked={channels.dmp} onChange={(e) => onChange({ ...channels, dmp: e.target.checked })} />
          <span>
            <strong>Dossier médical partagé (DMP)</strong>
            <br />
            <small className="muted">Dépôt dans le DMP du patient, consultable par les professionnels autorisés et par le patient.</small>
          </span>
        </label>
      </fieldset>
      {!channels.mssante && !channels.dmp ? <p className="field-message">Choisissez au moins un canal.</p> : null}
    </div>
  );
}

const DMP_STATE_TONE: Record<ShareDmpCheck['state'], 'success' | 'warning' | 'error'> = {
  ready: 'success',
  'authorization-missing': 'warning',
  'authorization-expired': 'warning',
  'no-dmp': 'error',
  closed: 'error',
  forbidden: 'error',
  'no-ins': 'error',
  unavailable: 'error',
};
const DMP_STATE_LABEL: Record<ShareDmpCheck['state'], string> = {
  ready: 'DMP actif — autorisation valide',
  'authorization-missing': 'Autorisation d’accès absente',
  'authorization-expired': 'Autorisation d’accès expirée',
  'no-dmp': 'Pas de DMP',
  closed: 'DMP fermé',
  forbidden: 'Accès bloqué par le patient',
  'no-ins': 'INS non qualifiée',
  unavailable: 'DMP injoignable',
};

function DmpStep({ patientId, check, onCheck }: { patientId: number; check?: ShareDmpCheck; onCheck(c: ShareDmpCheck): void }) {
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [consent, setConsent] = useState(false);
  const [confirm, setConfirm] = useState(false);
  const [authorizing, setAuthorizing] = useState(false);
  const run = () => {
    setLoading(true);
    setError(undefined);
    lps
      .invoke('share.dmpCheck', { patientId })
      .then(onCheck, (e) => setError(toApiError(e)))
      .finally(() => setLoading(false));
  };
  useEffect(run, [patientId]);
  const authorize = async () => {
    setConfirm(false);
    setAuthorizing(true);
    setError(undefined);
    try {
      onCheck(await lps.invoke('share.authorize', { patientId, consent: true }));
    } catch (e) {
      setError(toApiError(e));
    } finally {
      setAuthorizing(false);
    }
  };
  return (
    <div className="share-step">
      <p className="lead">Vérification du DMP du patient (existence, état, votre autorisation d'accès).</p>
      {loading ? <Loading label="Interrogation du DMP…" /> : null}
      {error ? <ErrorNotice error={error} onRetry={run} /> : null}
      {check && !loading ? (
        <div className={`notice ${check.canPublish ? 'notice-success' : check.canAuthorize ? 'notice-warning' : 'notice-error'}`} data-testid="share-dmp-state">
          <p className="notice-title">
            <StatusBadge tone={DMP_STATE_TONE[check.state]}>{DMP_STATE_LABEL[check.state]}</StatusBadge> {check.message}
          </p>
          {check.status?.treatingPhysician ? <p>Vous êtes déclaré(e) médecin traitant de ce patient.</p> : null}
          {check.state === 'closed' && check.status?.closureDate ? <p>Fermé le {formatDate(check.status.closureDate)}.</p> : null}
          {!check.canPublish && !check.canAuthorize ? <p>Revenez à l'étape « Canaux » pour envoyer uniquement par messagerie.</p> : null}
          {check.state === 'unavailable' ? (
            <button type="button" className="button" onClick={run}>
              Réessayer
            </button>
          ) : null}
        </div>
      ) : null}
      {check?.canAuthorize ? (
        <div className="share-consent">
          <label className="share-check">
            <input type="checkbox" checked={consent} onChange={(e) => setConsent(e.target.checked)} />
            <span>J'ai informé le patient et recueilli son consentement pour accéder à son DMP et l'alimenter.</span>
          </label>
          <button type="button" className="button" disabled={!consent || authorizing} onClick={() => setConfirm(true)}>
            {authorizing ? 'Enregistrement…' : "Enregistrer l'autorisation d'accès"}
          </button>
        </div>
      ) : null}
      <ConfirmDialog open={confirm} title="Enregistrer l'autorisation d'accès au DMP ?" confirmLabel="Enregistrer l'autorisation" onConfirm={() => void authorize()} onCancel={() => setConfirm(false)}>
        <p>Vous attestez que le patient a consenti à ce que vous accédiez à son DMP. Cette autorisation est enregistrée dans le DMP à votre nom et tracée.</p>
      </ConfirmDialog>
    </div>
  );
}

const MASKING_OPTIONS: { key: keyof Masking; label: string; consequence: string }[] = [
  {
    key: 'maskPs',
    label: 'Masqué aux professionnels de santé',
    consequence: "Seuls vous-même, le médecin traitant et le patient verront ce document. Les autres professionnels autorisés ne le verront pas (sauf en cas d'urgence).",
  },
  {
    key: 'invisiblePatient',
    label: 'Invisible au patient',
    consequence: "Le patient ne le verra pas dans Mon espace santé tant qu'une consultation d'annonce n'a pas eu lieu. Ce choix ne peut plus être fait une fois le document rendu visible.",
  },
  {
    key: 'invisibleLegalReps',
    label: 'Invisible aux représentants légaux',
    consequence: "Les représentants légaux d'un patient mineur ne le verront pas (secret demandé par le mineur).",
  },
];

function ConfidentialityStep({ masking, onChange }: { masking: Masking; onChange(m: Masking): void }) {
  const none = !masking.maskPs && !masking.invisiblePatient && !masking.invisibleLegalReps;
  return (
    <div className="share-step">
      <p className="lead">Qui pourra voir ce document dans le DMP ?</p>
      <fieldset className="choices share-masking">
        <legend>Confidentialité dans le DMP</legend>
        <label>
          <input type="checkbox" checked={none} onChange={() => onChange({ maskPs: false, invisiblePatient: false, invisibleLegalReps: false })} />
          <span>
            <strong>Visible normalement (par défaut)</strong>
            <br />
            <small className="muted">Visible par le patient et par tous les professionnels qu'il a autorisés.</small>
          </span>
        </label>
        {MASKING_OPTIONS.map((o) => (
          <label key={o.key}>
            <input type="checkbox" checked={masking[o.key]} onChange={(e) => onChange({ ...masking, [o.key]: e.target.checked })} />
            <span>
              <strong>{o.label}</strong>
              <br />
              <small className="muted">{o.consequence}</small>
            </span>
          </label>
        ))}
      </fieldset>
    </div>
  );
}

function RecipientsStep(props: {
  draft: ShareDraft;
  from: string;
  onFrom(v: string): void;
  to: { address: string; label: string }[];
  onTo(v: { address: string; label: string }[]): void;
  toPatient: boolean;
  onToPatient(v: boolean): void;
  closeChannel: boolean;
  onCloseChannel(v: boolean): void;
}) {
  const { draft, to, onTo } = props;
  const [text, setText] = useState('');
  const [results, setResults] = useState<DirectoryEntry[]>();
  const [searching, setSearching] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [online, setOnline] = useState(false);
  const [onlineWarning, setOnlineWarning] = useState<string>();
  const [manual, setManual] = useState('');
  const search = () => {
    if (!text.trim()) return;
    setSearching(true);
    setError(undefined);
    setOnlineWarning(undefined);
    lps
      .invoke('mssante.directory.search', { text: text.trim(), limit: 20, online })
      .then(
        (r) => {
          setResults(r.entries);
          setOnlineWarning(r.warning?.message);
        },
        (e) => setError(toApiError(e)),
      )
      .finally(() => setSearching(false));
  };
  const add = (address: string, label: string) => {
    const a = address.trim().toLowerCase();
    if (!a || to.some((t) => t.address === a)) return;
    onTo([...to, { address: a, label }]);
  };
  const manualValid = /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(manual.trim());
  return (
    <div className="share-step">
      <Field id="share-from" label="Expéditeur (votre boîte aux lettres)">
        {draft.senders.length ? (
          <select id="share-from" value={props.from} onChange={(e) => props.onFrom(e.target.value)}>
            {draft.senders.map((s) => (
              <option key={s.address} value={s.address}>
                {s.displayName ? `${s.displayName} — ` : ''}
                {s.address} ({s.kind === 'PER' ? 'personnelle' : 'organisationnelle'})
              </option>
            ))}
          </select>
        ) : (
          <p className="field-message">Aucune boîte aux lettres MSSanté n'est configurée (Paramètres → Messageries).</p>
        )}
      </Field>
      <div className="share-recipients">
        <div>
          <form
            className="row"
            role="search"
            onSubmit={(e) => {
              e.preventDefault();
              search();
            }}
          >
            <label htmlFor="share-directory">Annuaire santé</label>
            <input id="share-directory" className="grow" value={text} onChange={(e) => setText(e.target.value)} placeholder="Nom, établissement, ville, RPPS…" />
            <button type="submit" className="button button-secondary" disabled={!text.trim() || searching}>
              Rechercher
            </button>
          </form>
          <label className="share-directory-online">
            <input type="checkbox" checked={online} onChange={(e) => setOnline(e.target.checked)} /> Inclure l'annuaire national en ligne
          </label>
          {searching ? <Loading label="Recherche dans l'annuaire…" /> : null}
          {onlineWarning ? (
            <p className="field-message" role="status">
              {onlineWarning}
            </p>
          ) : null}
          {error ? <ErrorNotice error={error} onRetry={search} /> : null}
          {results && results.length === 0 ? <Empty title="Aucune adresse trouvée dans l'annuaire." /> : null}
          {results && results.length > 0 ? (
            <ul className="list share-directory-results" aria-label="Résultats de l'annuaire">
              {results.map((r) => {
                const label = [r.given, r.family].filter(Boolean).join(' ') || r.organization || r.address;
                const chosen = to.some((t) => t.address === r.address.toLowerCase());
                return (
                  <li key={r.address} className="share-directory-item">
                    <span>
                      <strong>{label}</strong> {r.profession ? <span className="muted">— {r.profession}</span> : null}
                      <br />
                      <small>{r.address}</small> {r.kind ? <StatusBadge tone="neutral">{r.kind === 'PER' ? 'personnelle' : r.kind === 'ORG' ? 'organisationnelle' : 'applicative'}</StatusBadge> : null}
                      {r.city ? <small className="muted"> — {r.city}</small> : null}
                      {r.source === 'annuaire-fhir' ? <StatusBadge tone="neutral">en ligne</StatusBadge> : null}
                    </span>
                    <button type="button" className="button button-secondary" disabled={chosen} onClick={() => add(r.address, label)} aria-label={`Ajouter ${label}`}>
                      {chosen ? 'Ajouté' : 'Ajouter'}
                    </button>
                  </li>
                );
              })}
            </ul>
          ) : null}
          <div className="row share-manual">
            <label htmlFor="share-manual">Autre adresse MSSanté</label>
            <input id="share-manual" className="grow" value={manual} onChange={(e) => setManual(e.target.value)} placeholder="prenom.nom@domaine.mssante.fr" />
            <button
              type="button"
              className="button button-secondary"
              disabled={!manualValid}
              onClick={() => {
                add(manual, manual.trim());
                setManual('');
              }}
            >
              Ajouter
            </button>
          </div>
        </div>
        <div>
          <h3>Destinataires ({to.length + (props.toPatient ? 1 : 0)})</h3>
          {to.length === 0 && !props.toPatient ? <p className="muted">Aucun destinataire pour l'instant.</p> : null}
          <ul className="list" aria-label="Destinataires choisis" data-testid="share-recipients">
            {to.map((t) => (
              <li key={t.address} className="share-directory-item">
                <span>
                  <strong>{t.label}</strong>
                  <br />
                  <small>{t.address}</small>
                </span>
                <button type="button" className="link-button" onClick={() => onTo(to.filter((x) => x.address !== t.address))} aria-label={`Retirer ${t.label}`}>
                  Retirer
                </button>
              </li>
            ))}
          </ul>
          <fieldset className="choices share-patient-address">
            <legend>Messagerie du patient (Mon espace santé)</legend>
            {draft.patientAddress ? (
              <>
                <label>
                  <input type="checkbox" checked={props.toPatient} onChange={(e) => props.onToPatient(e.target.checked)} />
                  <span>
                    Envoyer aussi au patient : <code>{draft.patientAddress}</code>
                  </span>
                </label>
                <label>
                  <input type="checkbox" disabled={!props.toPatient} checked={props.closeChannel} onChange={(e) => props.onCloseChannel(e.target.checked)} />
                  <span>
                    Clore l'échange : le patient ne pourra pas répondre à ce message
                    <br />
                    <small className="muted">(en-tête X-MSS-MES : FIN)</small>
                  </span>
                </label>
              </>
            ) : (
              <p className="muted">Disponible seulement quand l'INS du patient est qualifiée.</p>
            )}
          </fieldset>
        </div>
      </div>
    </div>
  );
}

function MessageStep(props: {
  subject: string;
  onSubject(v: string): void;
  body: string;
  onBody(v: string): void;
  ack: { delivery: boolean; read: boolean };
  onAck(v: { delivery: boolean; read: boolean }): void;
}) {
  return (
    <div className="share-step">
      <Field id="share-subject" label="Objet" help="Le préfixe réglementaire (XDM/1.0/DDM) est ajouté automatiquement." error={props.subject.trim() ? undefined : "L'objet est obligatoire."}>
        <input id="share-subject" value={props.subject} maxLength={250} onChange={(e) => props.onSubject(e.target.value)} />
      </Field>
      <Field id="share-body" label="Message">
        <textarea id="share-body" rows={7} value={props.body} onChange={(e) => props.onBody(e.target.value)} />
      </Field>
      <fieldset className="choices">
        <legend>Accusés demandés</legend>
        <label>
          <input type="checkbox" checked={props.ack.delivery} onChange={(e) => props.onAck({ ...props.ack, delivery: e.target.checked })} />
          <span>Accusé de remise (le message est arrivé dans la boîte du destinataire)</span>
        </label>
        <label>
          <input type="checkbox" checked={props.ack.read} onChange={(e) => props.onAck({ ...props.ack, read: e.target.checked })} />
          <span>Accusé de lecture et d'intégration (le destinataire a lu ou intégré le document)</span>
        </label>
      </fieldset>
    </div>
  );
}

function SendStep(props: {
  draft: ShareDraft;
  channels: { mssante: boolean; dmp: boolean };
  masking: Masking;
  from: string;
  to: string[];
  toPatient: boolean;
  closeChannel: boolean;
  subject: string;
  body: string;
  ack: { delivery: boolean; read: boolean };
  onSent(jobId: string): void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const maskLabels = MASKING_OPTIONS.filter((o) => props.masking[o.key]).map((o) => o.label.toLowerCase());
  const send = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const r = await lps.invoke('share.send', {
        draftId: props.draft.draftId,
        ...(props.channels.mssante
          ? { mssante: { from: props.from, to: props.to, cc: [], toPatient: props.toPatient, closePatientChannel: props.closeChannel, subject: props.subject, body: props.body, ack: props.ack } }
          : {}),
        ...(props.channels.dmp ? { dmp: { masking: props.masking } } : {}),
      });
      props.onSent(r.jobId);
    } catch (e) {
      setError(toApiError(e));
      setBusy(false);
    }
  };
  return (
    <div className="share-step">
      <p className="lead">Vérifiez puis envoyez : les deux canaux partent en même temps.</p>
      <dl className="facts" data-testid="share-summary">
        <Fact label="Document">
          « {props.draft.title} » — {props.draft.typeLabel}, {formatDate(props.draft.date)}
        </Fact>
        <Fact label="Patient">{props.draft.patient.name}</Fact>
        {props.channels.mssante ? (
          <Fact label="Messagerie">
            de {props.from} à {[...props.to, ...(props.toPatient && props.draft.patientAddress ? [`${props.draft.patientAddress} (patient${props.closeChannel ? ', échange clos' : ''})`] : [])].join(', ')}
            {props.ack.delivery || props.ack.read ? ` — accusés : ${[props.ack.delivery ? 'remise' : '', props.ack.read ? 'lecture' : ''].filter(Boolean).join(' et ')}` : ''}
          </Fact>
        ) : null}
        {props.channels.dmp ? <Fact label="DMP">{maskLabels.length ? `dépôt ${maskLabels.join(', ')}` : 'dépôt visible normalement'}</Fact> : null}
      </dl>
      <div className="row">
        <button type="button" className="button share-send" disabled={busy} onClick={() => void send()}>
          {busy ? 'Envoi…' : props.channels.mssante && props.channels.dmp ? 'Envoyer et déposer dans le DMP' : props.channels.dmp ? 'Déposer dans le DMP' : 'Envoyer'}
        </button>
      </div>
      {error ? <ErrorNotice error={error} /> : null}
    </div>
  );
}


