import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import type { ImagingExam, ImagingSession } from '../../../../shared/api';
import type { ApiError } from '../../../../shared/api/types';
import { lps, toApiError } from '../../api';
import { ErrorNotice } from '../../components/ErrorNotice';
import { PatientBanner } from '../../components/PatientBanner';
import { Empty, Loading } from '../../components/States';
import { usePatient } from '../../store/patient';
import { warmViewer } from './cornerstone';
import { frameStore, type InstanceRecord } from './frame-stream';
import { describeFromRecord, scanLocalFiles, sessionRoot, sessionSeries, type ViewerSeries, type ViewerStudy } from './series';
import { useImagingRequest } from './store';
import { Viewer } from './Viewer';

/** "Imagerie": the current patient's exams in the DMP (KOS), opened in the viewer; or local DICOM files. */

const MODALITIES: { code: string; label: string }[] = [
  { code: 'CT', label: 'Scanner (CT)' },
  { code: 'MR', label: 'IRM (MR)' },
  { code: 'CR', label: 'Radiographie (CR)' },
  { code: 'DX', label: 'Radiographie numérique (DX)' },
  { code: 'US', label: 'Échographie (US)' },
  { code: 'NM', label: 'Médecine nucléaire (NM)' },
  { code: 'PT', label: 'TEP (PT)' },
  { code: 'MG', label: 'Mammographie (MG)' },
  { code: 'XA', label: 'Angiographie (XA)' },
];

function formatYmd(d: string | undefined): string {
  if (!d || !/^\d{8}/.test(d)) return '—';
  return new Date(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T12:00:00`).toLocaleDateString('fr-FR', { day: 'numeric', month: 'long', year: 'numeric' });
}

interface Opened {
  title: string;
  session?: ImagingSession;
  study: ViewerStudy;
  series: ViewerSeries[];
  pending: number;
  /** When the KOS was resolved (the viewer's first-image time counts from there). */
  openedAt?: number;
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

export function ImagingScreen() {
  const patient = usePatient((s) => s.current);
  const ins = patient?.ins ?? undefined;
  const [filters, setFilters] = useState({ from: '', to: '', modality: '', region: '' });
  const [exams, setExams] = useState<ImagingExam[]>();
  const [regions, setRegions] = useState(new Map<string, string>());
  const [source, setSource] = useState<string>();
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [opening, setOpening] = useState<string>();
  const [opened, setOpened] = useState<Opened>();
  const filesRef = useRef<HTMLInputElement>(null);
  /** Resolved when the viewer shows its first image: the other series are described after it (no contention). */
  const firstShown = useRef<() => void>(undefined);
  const folderRef = useRef<HTMLInputElement>(null);
  const request = useImagingRequest((s) => s.pending);
  const consume = useImagingRequest((s) => s.consume);

  // The viewer stack and its codecs get ready while the user looks at the exam list.
  useEffect(() => {
    const t = setTimeout(warmViewer, 50);
    return () => clearTimeout(t);
  }, []);

  const search = useCallback(
    async (f = filters) => {
      if (!ins) return;
      setLoading(true);
      setError(undefined);
      try {
        const r = await lps.invoke('imaging.exams', {
          ins,
          ...(f.from ? { from: f.from } : {}),
          ...(f.to ? { to: f.to } : {}),
          ...(f.modality ? { modality: f.modality } : {}),
          ...(f.region ? { region: f.region } : {}),
        });
        setExams(r.exams);
        setSource(r.source);
        setRegions((prev) => {
          const next = new Map(prev);
          for (const e of r.exams) for (const g of e.regions) next.set(g.code, g.displayName ?? g.code);
          return next;
        });
      } catch (err) {
        setError(toApiError(err));
      } finally {
        setLoading(false);
      }
    },
    [filters, ins],
  );

  useEffect(() => {
    setExams(undefined);
    setRegions(new Map());
    if (ins) void search({ from: '', to: '', modality: '', region: '' });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ins]);

  /**
   * Opens a KOS session: the viewer shows at once with every series the KOS references (their images stream from
   * main); once the first image is on screen, each series is described from one of its instances (series browser).
   */
  const openSession = useCallback(async (input: Parameters<typeof lps.invoke<'imaging.open'>>[1], title: string) => {
    setOpening(title);
    setError(undefined);
    try {
      const session = await lps.invoke('imaging.open', input);
      const openedAt = performance.now();
      const study: ViewerStudy = {
        ...(session.patient.name ? { patientName: session.patient.name.replace(/\^/g, ' ').trim() } : {}),
        ...(session.patient.id ? { patientId: session.patient.id } : {}),
        ...(session.studyDate ? { studyDate: session.studyDate } : {}),
        ...(session.studyDescription ? { studyDescription: session.studyDescription } : {}),
      };
      const series = sessionSeries(session);
      // The first image's record is asked for now, while the viewer mounts (main has it on its way already).
      const first = series[0]?.stream;
      if (first) void frameStore.instance(first.base, first.sops[0]!).catch(() => undefined);
      const shown = new Promise<void>((resolve) => (firstShown.current = resolve));
      setOpened({ title, session, study, series, pending: 0, openedAt });
      await Promise.race([shown, new Promise((r) => setTimeout(r, 3000))]);
      const update = (key: string, r: InstanceRecord) => {
        const d = describeFromRecord(r);
        setOpened((o) =>
          o?.session?.handle === session.handle
            ? { ...o, study: { ...d.study, ...o.study }, series: o.series.map((x) => (x.key === key ? { ...x, ...d.series } : x)) }
            : o,
        );
      };
      await Promise.all(
        series.map(async (s) => {
          if (!s.stream) return;
          const { base, sops } = s.stream;
          const known = sops.map((sop) => frameStore.record(base, sop)).find(Boolean);
          try {
            update(s.key, known ?? (await frameStore.instance(base, sops[Math.floor(sops.length / 2)]!)));
          } catch {
            /* the series shows its own error when opened */
          }
        }),
      );
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setOpening(undefined);
    }
  }, []);

  // Requests from other screens (DMP record, CR-IMG view): open the exam they point at.
  useEffect(() => {
    if (!request) return;
    consume();
    void openSession(
      request.reportUniqueId ? { ins: request.ins, reportUniqueId: request.reportUniqueId } : { ins: request.ins, kosUniqueId: request.kosUniqueId! },
      request.title ?? 'Examen d’imagerie',
    );
  }, [request, consume, openSession]);

  const close = () => {
    const handle = opened?.session?.handle;
    if (opened?.session) frameStore.forget(`${sessionRoot(opened.session)}/`);
    setOpened(undefined);
    if (handle) void lps.invoke('imaging.close', { handle }).catch(() => undefined);
  };

  const openLocal = async (list: FileList | null) => {
    if (!list?.length) return;
    setOpening('Fichiers locaux');
    setError(undefined);
    try {
      const scan = await scanLocalFiles([...list]);
      if (scan.kosFiles.length && !scan.series.length) {
        const bytes = new Uint8Array(await scan.kosFiles[0]!.arrayBuffer());
        setOpening(undefined);
        await openSession({ kosBase64: toBase64(bytes), ...(ins ? { ins } : {}) }, `KOS local — ${scan.kosFiles[0]!.name}`);
        return;
      }
      if (!scan.series.length) {
        setError({ code: 'IMAGING_NO_DICOM', message: 'Aucune image DICOM lisible parmi les fichiers choisis.', detail: `${scan.skipped.length} fichier(s) ignoré(s)` });
        return;
      }
      setOpened({ title: `Fichiers locaux (${list.length})`, study: scan.study, series: scan.series, pending: 0 });
    } catch (err) {
      setError(toApiError(err));
    } finally {
      setOpening(undefined);
      if (filesRef.current) filesRef.current.value = '';
      if (folderRef.current) folderRef.current.value = '';
    }
  };

  if (opened) {
    return (
      <section aria-labelledby="imaging-title" className="imaging-screen">
        <h1 id="imaging-title" className="visually-hidden">
          Imagerie
        </h1>
        <PatientBanner />
        {error ? <ErrorNotice error={error} /> : null}
        <Viewer
          key={opened.session?.handle ?? opened.title}
          title={opened.title}
          study={opened.study}
          series={opened.series}
          pendingSeries={opened.pending}
          {...(opened.openedAt !== undefined ? { openedAt: opened.openedAt } : {})}
          onFirstImage={() => firstShown.current?.()}
          onClose={close}
        />
      </section>
    );
  }

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void search();
  };

  return (
    <section aria-labelledby="imaging-title" className="imaging-screen">
      <h1 id="imaging-title">Imagerie</h1>
      <PatientBanner />
      <div className="imaging-local">
        <span className="muted">Images sur un support (CD, clé USB, dossier) :</span>
        <label className="button button-secondary">
          Ouvrir des fichiers DICOM…
          <input ref={filesRef} type="file" multiple className="visually-hidden" onChange={(e) => void openLocal(e.target.files)} data-testid="imaging-files" />
        </label>
        <label className="button button-secondary">
          Ouvrir un dossier…
          <input
            ref={(el) => {
              folderRef.current = el;
              el?.setAttribute('webkitdirectory', '');
            }}
            type="file"
            multiple
            className="visually-hidden"
            onChange={(e) => void openLocal(e.target.files)}
          />
        </label>
      </div>
      {!ins ? (
        <Empty title={patient ? "Ce patient n'a pas d'INS : ses examens ne peuvent pas être recherchés dans le DMP." : 'Choisissez un patient pour voir ses examens d’imagerie du DMP.'} />
      ) : (
        <>
          <form className="filters" onSubmit={submit} aria-label="Filtres des examens">
            <label className="field">
              <span>Du</span>
              <input type="date" value={filters.from} onChange={(e) => setFilters({ ...filters, from: e.target.value })} />
            </label>
            <label className="field">
              <span>Au</span>
              <input type="date" value={filters.to} onChange={(e) => setFilters({ ...filters, to: e.target.value })} />
            </label>
            <label className="field">
              <span>Modalité</span>
              <select value={filters.modality} onChange={(e) => setFilters({ ...filters, modality: e.target.value })}>
                <option value="">Toutes</option>
                {MODALITIES.map((m) => (
                  <option key={m.code} value={m.code}>
                    {m.label}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span>Région anatomique</span>
              <select value={filters.region} onChange={(e) => setFilters({ ...filters, region: e.target.value })}>
                <option value="">Toutes</option>
                {[...regions].map(([code, label]) => (
                  <option key={code} value={code}>
                    {label}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit" className="button">
              Rechercher
            </button>
          </form>
          {error ? <ErrorNotice error={error} onRetry={() => void search()} /> : null}
          {opening ? <Loading label={`Ouverture : ${opening} (récupération du KOS et des métadonnées)…`} /> : null}
          {loading && !exams ? <Loading label="Recherche des examens dans le DMP…" /> : null}
          {exams && exams.length === 0 ? <Empty title="Aucun examen d'imagerie dans le DMP pour ces critères." /> : null}
          {exams && exams.length > 0 ? (
            <table className="table imaging-exams" aria-label="Examens d'imagerie du DMP">
              <caption className="muted">
                {exams.length} examen(s) {source === 'dmp' ? 'trouvé(s) dans le DMP' : 'du bac à sable (DMP non configuré)'}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Date</th>
                  <th scope="col">Modalité</th>
                  <th scope="col">Examen</th>
                  <th scope="col">Région</th>
                  <th scope="col">N° d'examen</th>
                  <th scope="col">Compte rendu</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {exams.map((e) => {
                  const title = e.title?.replace(/^Examen d'imagerie - /, '') ?? 'Examen';
                  return (
                    <tr key={e.kosUniqueId}>
                      <td>{formatYmd(e.date)}</td>
                      <td>{e.modalities.join(', ') || '—'}</td>
                      <td>{title}</td>
                      <td>{e.regions.map((r) => r.displayName ?? r.code).join(', ') || '—'}</td>
                      <td>{e.accessionNumber ?? '—'}</td>
                      <td>
                        {e.reports.length ? (
                          e.reports.map((r) => (
                            <button
                              key={r.uniqueId}
                              type="button"
                              className="link-button"
                              disabled={!!opening}
                              onClick={() => void openSession({ ins, reportUniqueId: r.uniqueId }, title)}
                              title="Ouvrir les images liées à ce compte rendu (même numéro d'examen)"
                            >
                              {r.title ?? 'Compte rendu'}
                            </button>
                          ))
                        ) : (
                          <span className="muted">Aucun</span>
                        )}
                      </td>
                      <td>
                        <button type="button" className="button" disabled={!!opening} onClick={() => void openSession({ ins, kosUniqueId: e.kosUniqueId }, title)}>
                          Ouvrir les images
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          ) : null}
        </>
      )}
    </section>
  );
}
