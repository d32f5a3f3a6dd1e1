import { useEffect, type KeyboardEvent } from 'react';
import { Empty } from '../../components/States';
import { PatientBanner } from '../../components/PatientBanner';
import { useApp } from '../../store/app';
import { usePatient } from '../../store/patient';
import { DocumentList } from './DocumentList';
import { DocumentView } from './DocumentView';
import { ImagingTab } from './ImagingTab';
import { StatusPanel } from './StatusPanel';
import { useDmp, type DmpTab } from './store';

const TABS: { id: DmpTab; label: string }[] = [
  { id: 'documents', label: 'Documents' },
  { id: 'imaging', label: 'Imagerie' },
];

/** The current patient's shared medical record (DMP): status and authorization, documents, imaging. */
export function DmpScreen() {
  const patient = usePatient((s) => s.current);
  const go = useApp((s) => s.go);
  const { ins, reset, status, openId, tab, setTab } = useDmp();

  useEffect(() => {
    const nextIns = patient?.ins && patient.insQualified ? patient.ins : undefined;
    if (nextIns !== ins || (!status && nextIns)) reset(nextIns, patient?.insOid ?? undefined);
  }, [patient?.id, patient?.ins, patient?.insQualified]);

  const onTabKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    e.preventDefault();
    const i = TABS.findIndex((t) => t.id === tab);
    const next = TABS[(i + 1) % TABS.length]!;
    setTab(next.id);
    e.currentTarget.querySelector<HTMLButtonElement>(`#dmp-tab-${next.id}`)?.focus();
  };
  const ready = status?.dmp === 'ACTIF' && status.authorization === 'VALIDE';

  return (
    <section aria-labelledby="dmp-title" className="dmp-screen">
      <h1 id="dmp-title">Dossier médical partagé (DMP)</h1>
      <PatientBanner />
      {!patient ? (
        <Empty title="Choisissez d’abord un patient.">
          <p>Le DMP consulté est toujours celui du patient en cours.</p>
        </Empty>
      ) : !patient.ins || !patient.insQualified ? (
        <Empty title="L’INS de ce patient n’est pas qualifiée : le DMP ne peut pas être consulté.">
          <p>Qualifiez l’identité du patient (INS vérifiée par le téléservice INSi ou sur pièce d’identité) depuis sa fiche.</p>
          <button type="button" className="button button-secondary" onClick={() => go('patients')}>
            Ouvrir la fiche patient
          </button>
        </Empty>
      ) : (
        <>
          <StatusPanel />
          {ready ? (
            <>
              <div className="dmp-tabs" role="tablist" aria-label="Contenu du DMP" onKeyDown={onTabKey}>
                {TABS.map((t) => (
                  <button key={t.id} id={`dmp-tab-${t.id}`} type="button" role="tab" aria-selected={tab === t.id} aria-controls="dmp-panel" tabIndex={tab === t.id ? 0 : -1} className={`dmp-tab${tab === t.id ? ' active' : ''}`} onClick={() => setTab(t.id)}>
                    {t.label}
                  </button>
                ))}
              </div>
              <div id="dmp-panel" role="tabpanel" aria-labelledby={`dmp-tab-${tab}`}>
                {tab === 'documents' ? openId ? <DocumentView uniqueId={openId} /> : <DocumentList /> : null}
                {tab === 'imaging' ? <ImagingTab /> : null}
              </div>
            </>
          ) : null}
        </>
      )}
    </section>
  );
}
