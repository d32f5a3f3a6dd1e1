import { useEffect, useState } from 'react';
import type { DmpDocument, DmpDocumentGroup } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { Empty, Loading } from '../../components/States';
import { useApp } from '../../store/app';
import { useImagingRequest } from '../imaging';
import { CR_IMG_TYPE, frDate, KOS_TYPE, MODALITIES, MODALITY_SCHEME } from './labels';
import { useDmp } from './store';

interface Exam {
  key: string;
  date?: string;
  accession?: string;
  modalities: string[];
  regions: string[];
  kos?: DmpDocument;
  reports: DmpDocument[];
  title: string;
}

/** KOS and CR d'imagerie of the record, paired by accession number (or study UID). */
function examsOf(groups: DmpDocumentGroup[]): Exam[] {
  const byKey = new Map<string, Exam>();
  for (const { current: d } of groups) {
    const acc = d.referenceIds.find((r) => r.endsWith('urn:ihe:iti:xds:2013:accession'))?.split('^')[0];
    const study = d.referenceIds.find((r) => r.endsWith('urn:ihe:iti:xds:2016:studyInstanceUID'))?.split('^')[0];
    const key = acc ?? study ?? d.uniqueId;
    const e = byKey.get(key) ?? { key, modalities: [], regions: [], reports: [], title: '', ...(acc ? { accession: acc } : {}) };
    for (const c of d.eventCodes) {
      if (c.scheme === MODALITY_SCHEME) {
        if (!e.modalities.includes(c.code)) e.modalities.push(c.code);
      } else if (!e.regions.includes(c.display || c.code)) e.regions.push(c.display || c.code);
    }
    if (d.typeCode?.code === KOS_TYPE || d.mimeType === 'application/dicom') e.kos = d;
    else e.reports.push(d);
    e.date = e.date ?? d.serviceStartTime ?? d.creationTime;
    e.title = (e.kos?.title ?? e.reports[0]?.title ?? '').replace(/^(Examen d'imagerie|CR d'imagerie médicale) - /, '') || e.title || 'Examen d’imagerie';
    byKey.set(key, e);
  }
  return [...byKey.values()].sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
}

const modalityLabel = (m: string): string => MODALITIES.find((x) => x.code === m)?.label ?? m;

/** The patient's imaging exams in the DMP: open the images in the viewer, or read the report. */
export function ImagingTab() {
  const { ins, insOid, open, setTab } = useDmp();
  const go = useApp((s) => s.go);
  const openImaging = useImagingRequest((s) => s.open);
  const [groups, setGroups] = useState<DmpDocumentGroup[]>();
  const [error, setError] = useState<ApiError>();
  const load = () => {
    if (!ins) return;
    setError(undefined);
    setGroups(undefined);
    lps.invoke('dmp.list', { ins, ...(insOid ? { insOid } : {}), typeCodes: [KOS_TYPE, CR_IMG_TYPE] }).then((r) => setGroups(r.groups), (e) => setError(toApiError(e)));
  };
  useEffect(load, [ins, insOid]);

  if (error) return <ErrorNotice error={error} onRetry={load} />;
  if (!groups) return <Loading label="Recherche des examens d’imagerie dans le DMP…" />;
  const exams = examsOf(groups);
  if (!exams.length) {
    return (
      <Empty title="Aucun examen d’imagerie dans le DMP de ce patient.">
        <p>Les examens apparaissent ici quand le service d’imagerie dépose leurs références (KOS) ou leur compte rendu dans le DMP.</p>
      </Empty>
    );
  }
  return (
    <table className="table dmp-table" aria-label="Examens d’imagerie du DMP">
      <caption>
        {exams.length} examen{exams.length > 1 ? 's' : ''} d’imagerie dans le DMP
      </caption>
      <thead>
        <tr>
          <th scope="col">Examen</th>
          <th scope="col">Date</th>
          <th scope="col">Modalité</th>
          <th scope="col">Région</th>
          <th scope="col">N° d’examen</th>
          <th scope="col">Actions</th>
        </tr>
      </thead>
      <tbody>
        {exams.map((e) => (
          <tr key={e.key} data-testid="dmp-exam-row">
            <td>{e.title}</td>
            <td>{frDate(e.date)}</td>
            <td>{e.modalities.map(modalityLabel).join(', ') || '—'}</td>
            <td>{e.regions.join(', ') || '—'}</td>
            <td>{e.accession ?? '—'}</td>
            <td>
              <div className="row">
                {e.kos ? (
                  <button
                    type="button"
                    className="button"
                    onClick={() => {
                      openImaging({ ins: ins!, kosUniqueId: e.kos!.uniqueId, title: e.title });
                      go('imaging');
                    }}
                  >
                    Ouvrir les images
                  </button>
                ) : (
                  <span className="muted">Images non référencées</span>
                )}
                {e.reports.map((r) => (
                  <button
                    key={r.uniqueId}
                    type="button"
                    className="button button-secondary"
                    onClick={() => {
                      setTab('documents');
                      open(r.uniqueId);
                    }}
                  >
                    Lire le compte rendu
                  </button>
                ))}
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
