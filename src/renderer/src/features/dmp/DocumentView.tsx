import { useEffect, useRef, useState, type ChangeEvent, type KeyboardEvent } from 'react';
import type { DmpDocumentView } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { NarrativeFrame } from '../../components/NarrativeFrame';
import { PdfPanel } from '../../components/PdfPanel';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { StatusBadge } from '../../components/StatusBadge';
import { useApp } from '../../store/app';
import { useToasts } from '../../store/toasts';
import { useImagingRequest } from '../imaging';
import { VisibilityBadges } from './DocumentList';
import { ACTIONS, authorName, formatSize, frDateTime, frIso, KOS_TYPE, maskingCodes, type DocAction } from './labels';
import { useDmp } from './store';

type View = 'narrative' | 'pdf';


function readBase64(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onerror = () => reject(new Error(r.error?.message ?? 'lecture impossible'));
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.readAsDataURL(file);
  });
}

/** The TD3.3 actions that make sense for this document, in the order shown. */
function actionsFor(v: DmpDocumentView): DocAction[] {
  const st = String(v.document.status);
  if (st === 'deprecated' || st === 'deleted') return [];
  const m = maskingCodes(v.document);
  return [
    m.includes('MASQUE_PS') ? 'unmask-ps' : 'mask-ps',
    m.includes('INVISIBLE_PATIENT') ? 'visible-patient' : 'invisible-patient',
    m.includes('INVISIBLE_REPRESENTANTS_LEGAUX') ? 'visible-legal-reps' : 'invisible-legal-reps',
    st === 'archived' ? 'unarchive' : 'archive',
    'delete',
  ];
}

export function DocumentView({ uniqueId }: { uniqueId: string }) {
  const { ins, insOid, open, search } = useDmp();
  const go = useApp((s) => s.go);
  const toast = useToasts((s) => s.push);
  const openImaging = useImagingRequest((s) => s.open);
  const [data, setData] = useState<DmpDocumentView>();
  const [error, setError] = useState<ApiError>();
  const [view, setView] = useState<View>('narrative');
  const [confirm, setConfirm] = useState<DocAction>();
  const [busy, setBusy] = useState<string>();
  const [actionError, setActionError] = useState<ApiError>();
  const [newPdf, setNewPdf] = useState<{ name: string; size: number; base64: string }>();
  const [newTitle, setNewTitle] = useState('');
  const back = useRef<HTMLButtonElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const patient = { ins: ins!, ...(insOid ? { insOid } : {}) };

  const load = () => {
    setError(undefined);
    setData(undefined);
    lps.invoke('dmp.view', { ...patient, uniqueId }).then(
      (d) => {
        setData(d);
        setView(d.header?.level === 1 && d.pdf ? 'pdf' : 'narrative');
      },
      (e) => setError(toApiError(e)),
    );
  };
  useEffect(load, [uniqueId, ins]);
  useEffect(() => back.current?.focus(), [uniqueId]);

  const runAction = async (a: DocAction) => {
    setConfirm(undefined);
    setBusy(ACTIONS[a].button);
    setActionError(undefined);
    try {
      await lps.invoke('dmp.set', { ...patient, uniqueId, action: a });
      toast({ level: 'success', title: ACTIONS[a].done });
      void search();
      if (a === 'delete') open(undefined);
      else load();
    } catch (e) {
      setActionError(toApiError(e));
    } finally {
      setBusy(undefined);
    }
  };

  const pickPdf = async (e: ChangeEvent<HTMLInputElement>) => {
    const f = e.target.files?.[0];
    e.target.value = '';
    if (!f) return;
    setActionError(undefined);
    try {
      setNewTitle(data?.header?.title ?? data?.document.title ?? '');
      setNewPdf({ name: f.name, size: f.size, base64: await readBase64(f) });
    } catch (err) {
      setActionError({ code: 'FILE_UNREADABLE', message: 'Le fichier choisi n’a pas pu être lu.', detail: (err as Error).message });
    }
  };
  const publishNewVersion = async () => {
    if (!newPdf) return;
    const pdf = newPdf;
    setNewPdf(undefined);
    setBusy('Nouvelle version');
    setActionError(undefined);
    try {
      const r = await lps.invoke('dmp.newVersion', { ...patient, uniqueId, pdfBase64: pdf.base64, ...(newTitle.trim() ? { title: newTitle.trim() } : {}) });
      toast({ level: 'success', title: `Nouvelle version (n° ${r.versionNumber}) déposée dans le DMP`, body: 'L’ancienne version est conservée comme « remplacée ».' });
      void search();
      open(r.uniqueId);
    } catch (e) {
      setActionError(toApiError(e));
    } finally {
      setBusy(undefined);
    }
  };

  const views: { id: View; label: string }[] = data?.kind === 'cda' ? [...(data.header?.level === 1 && data.pdf ? [] : [{ id: 'narrative' as const, label: 'Compte rendu' }]), ...(data.pdf ? [{ id: 'pdf' as const, label: 'PDF' }] : [])] : [];
  const onTabKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    e.preventDefault();
    const i = views.findIndex((v) => v.id === view);
    const next = views[(i + (e.key === 'ArrowRight' ? 1 : views.length - 1)) % views.length]!;
    setView(next.id);
    e.currentTarget.querySelector<HTMLButtonElement>(`#dmp-doc-tab-${next.id}`)?.focus();
  };

  const d = data?.document;
  const h = data?.header;
  const st = d ? String(d.status) : '';
  const isKos = d?.typeCode?.code === KOS_TYPE || data?.kind === 'dicom';
  const current = st === 'approved' || st === 'archived';
  const a = confirm ? ACTIONS[confirm] : undefined;

  return (
    <article aria-labelledby="dmp-doc-title" className="dmp-docview" data-testid="dmp-document-view">
      <button ref={back} type="button" className="button button-secondary" onClick={() => open(undefined)}>
        ← Retour à la liste des documents
      </button>
      {error ? <ErrorNotice error={error} onRetry={load} /> : null}
      {!data && !error ? <Loading label="Récupération du document dans le DMP…" /> : null}
      {data && d ? (
        <>
          <div className="dmp-doc-head">
            <h2 id="dmp-doc-title">{h?.title ?? d.title ?? 'Document'}</h2>
            <StatusBadge tone={st === 'approved' ? 'success' : st === 'archived' ? 'neutral' : 'warning'} testId="dmp-view-status">
              {st === 'approved' ? 'Actif' : st === 'archived' ? 'Archivé' : st === 'deprecated' ? 'Ancienne version (remplacée)' : st}
            </StatusBadge>
            <VisibilityBadges doc={d} />
          </div>
          {st === 'deprecated' ? <p className="notice notice-warning">Cette version a été remplacée : elle reste consultable mais ne peut plus être modifiée.</p> : null}
          <div className="dmp-doc-body">
            <dl className="facts dmp-facts">
              <dt>Type</dt>
              <dd>{h?.typeLabel ?? d.typeCode?.display ?? d.mimeType}</dd>
              <dt>Date de l’acte</dt>
              <dd>{h?.serviceStart ? frIso(h.serviceStart) : frDateTime(d.serviceStartTime ?? d.creationTime)}</dd>
              <dt>Créé le</dt>
              <dd>{h?.effectiveTime ? frIso(h.effectiveTime) : frDateTime(d.creationTime)}</dd>
              <dt>Auteur</dt>
              <dd>{h?.authors.length ? h.authors.map((x) => [x.name, x.organization].filter(Boolean).join(' — ')).join(' ; ') : d.authors.map(authorName).join(', ') || '—'}</dd>
              {h ? (
                <>
                  <dt>Patient</dt>
                  <dd>
                    {h.patient.name}
                    {h.patient.birthDate ? ` · né(e) le ${frIso(h.patient.birthDate)}` : ''}
                    {h.patient.ins ? (
                      <>
                        {' '}
                        · INS <code>{h.patient.ins}</code>
                      </>
                    ) : null}
                  </dd>
                  <dt>Version</dt>
                  <dd>{h.versionNumber ?? 1}</dd>
                  {h.confidentiality ? (
                    <>
                      <dt>Confidentialité</dt>
                      <dd>{h.confidentiality}</dd>
                    </>
                  ) : null}
                </>
              ) : null}
              <dt>Taille</dt>
              <dd>{formatSize(d.size)}</dd>
            </dl>
            {current ? (
              <div className="dmp-actions" role="group" aria-label="Actions sur le document">
                {data.kind === 'cda' ? (
                  <>
                    <button type="button" className="button" onClick={() => fileInput.current?.click()} disabled={!!busy}>
                      Nouvelle version…
                    </button>
                    <input ref={fileInput} type="file" accept="application/pdf,.pdf" className="sr-only" tabIndex={-1} aria-label="PDF de la nouvelle version" onChange={(e) => void pickPdf(e)} data-testid="dmp-new-version-file" />
                  </>
                ) : null}
                {isKos ? (
                  <button
                    type="button"
                    className="button"
                    onClick={() => {
                      openImaging({ ins: ins!, kosUniqueId: d.uniqueId, title: d.title });
                      go('imaging');
                    }}
                  >
                    Ouvrir les images
                  </button>
                ) : null}
                {actionsFor(data).map((act) => (
                  <button key={act} type="button" className={`button ${ACTIONS[act].danger ? 'button-danger' : 'button-secondary'}`} onClick={() => setConfirm(act)} disabled={!!busy}>
                    {ACTIONS[act].button}
                  </button>
                ))}
              </div>
            ) : null}
          </div>
          {busy ? <Loading label={`${busy} : transmission au DMP…`} /> : null}
          {actionError ? <ErrorNotice error={actionError} /> : null}
          {views.length > 1 ? (
            <div className="dmp-tabs dmp-tabs-small" role="tablist" aria-label="Contenu du document" onKeyDown={onTabKey}>
              {views.map((v) => (
                <button key={v.id} id={`dmp-doc-tab-${v.id}`} type="button" role="tab" aria-selected={view === v.id} tabIndex={view === v.id ? 0 : -1} className={`dmp-tab${view === v.id ? ' active' : ''}`} onClick={() => setView(v.id)}>
                  {v.label}
                </button>
              ))}
            </div>
          ) : null}
          <div role={views.length > 1 ? 'tabpanel' : undefined}>
            {data.kind === 'dicom' ? (
              <Empty title="Références d’objets d’un examen d’imagerie (KOS)">
                <p>Ce document désigne les images d’un examen conservées par le système d’imagerie : ouvrez-les dans la visionneuse.</p>
              </Empty>
            ) : null}
            {data.kind === 'other' && !data.pdf ? <Empty title={`Ce document (${d.mimeType}) ne peut pas être affiché ici.`} /> : null}
            {data.kind === 'cda' && view === 'narrative' ? <NarrativeFrame html={data.html} title={`Contenu du document ${h?.title ?? ''}`} className="dmp-frame" testId="dmp-narrative" /> : null}
            {(view === 'pdf' || data.kind === 'other') && data.pdf ? (
              <PdfPanel pdf={data.pdf} className="dmp-pdf" testId="dmp-pdf" />
            ) : null}
          </div>
        </>
      ) : null}
      {/* Mounted only while open: ConfirmDialog's heading id is fixed, two in the page would share it. */}
      {a ? (
      <ConfirmDialog open={!!a} title={a?.title ?? ''} confirmLabel={a?.confirm ?? ''} danger={a?.danger} onConfirm={() => confirm && void runAction(confirm)} onCancel={() => setConfirm(undefined)}>
        {a ? (
          <>
            <p>
              Document : <strong>{h?.title ?? d?.title}</strong>
            </p>
            <ul>
              {a.consequence.map((c) => (
                <li key={c}>{c}</li>
              ))}
            </ul>
            <p className="muted">La modification est enregistrée dans le DMP (nouvelle version des informations du document) et tracée.</p>
          </>
        ) : null}
      </ConfirmDialog>
      ) : null}
      {newPdf ? (
      <ConfirmDialog open={!!newPdf} title="Déposer une nouvelle version ?" confirmLabel="Déposer la nouvelle version" onConfirm={() => void publishNewVersion()} onCancel={() => setNewPdf(undefined)}>
        {newPdf ? (
          <>
            <p>
              Fichier : <strong>{newPdf.name}</strong> ({formatSize(newPdf.size)})
            </p>
            <label className="field" htmlFor="dmp-new-title">
              Titre du document
              <input id="dmp-new-title" value={newTitle} onChange={(e) => setNewTitle(e.target.value)} maxLength={250} />
            </label>
            <ul>
              <li>Un nouveau document CDA (version {(h?.versionNumber ?? 1) + 1}) est créé à votre nom avec ce PDF, pour le même patient et le même type de document.</li>
              <li>Il remplace la version actuelle, qui passe à l’état « remplacée » (elle reste consultable dans l’historique).</li>
              <li>Sa visibilité reste la même : {maskingCodes(d ?? { masking: [] }).length ? 'les restrictions actuelles sont conservées' : 'visible par tous'}.</li>
              <li>Seul un auteur du document peut le remplacer.</li>
            </ul>
          </>
        ) : null}
      </ConfirmDialog>
      ) : null}
    </article>
  );
}
