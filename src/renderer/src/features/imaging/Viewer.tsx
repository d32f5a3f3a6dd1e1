import { useCallback, useEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent } from 'react';
import { cornerstone, cornerstoneTools, decodeStats, initCornerstone } from './cornerstone';
import { applyPreset, presetsFor } from './presets';
import { AHEAD, dropPreview, frameStore, requestPreview } from './frame-stream';
import { orderedImageIds, type ViewerSeries, type ViewerStudy } from './series';

/**
 * The DICOM viewer: series browser with thumbnails, stack scroll (wheel, keys), window/level (drag and
 * presets), pan, zoom, invert, rotate/flip, fit/reset, cine, length and angle, overlay, loading progress.
 */

type ToolName = 'Wwwc' | 'Pan' | 'Zoom' | 'Length' | 'Angle';
const TOOLS: { id: ToolName; label: string; key: string }[] = [
  { id: 'Wwwc', label: 'Fenêtrage', key: 'W' },
  { id: 'Pan', label: 'Déplacer', key: 'D' },
  { id: 'Zoom', label: 'Zoom', key: 'Z' },
  { id: 'Length', label: 'Distance', key: 'L' },
  { id: 'Angle', label: 'Angle', key: 'A' },
];
const MEASUREMENT_TOOLS: readonly ToolName[] = ['Length', 'Angle'];
// Requests in flight for the rest of a series: enough to keep the pipe full while main hands out the frames of
// its series retrieval (6 left main waiting; Chromium queues what exceeds its per-host connection limit).
const PRELOAD_CONCURRENCY = 12;
/** Transfer syntaxes whose frames need no decoding (their series stream starts with the first image's transfer). */
const NATIVE_SYNTAXES = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2', '1.2.840.10008.1.2.1.99']);

type CsImage = {
  imageId: string;
  windowWidth: number | number[];
  windowCenter: number | number[];
  color: boolean;
  rows: number;
  columns: number;
  getPixelData(): ArrayLike<number>;
};
type CsViewport = {
  scale: number;
  invert: boolean;
  rotation: number;
  hflip: boolean;
  vflip: boolean;
  voi: { windowWidth: number; windowCenter: number };
};

const first0 = (v: number | number[]): number => (Array.isArray(v) ? (v[0] ?? 0) : v);

/**
 * A series thumbnail: the image fitted to the canvas. Grey images through cornerstone with their own window;
 * colour ones drawn here from their RGB(A) samples (cornerstone's renderToCanvas left them black).
 */
function drawThumbnail(canvas: HTMLCanvasElement, image: CsImage): void {
  if (!image.color) {
    cornerstone.renderToCanvas(canvas, image as never);
    return;
  }
  const { columns: w, rows: h } = image;
  const px = image.getPixelData();
  const off = document.createElement('canvas');
  off.width = w;
  off.height = h;
  const octx = off.getContext('2d')!;
  const data = octx.createImageData(w, h);
  if (px.length === w * h * 4) data.data.set(px);
  else for (let i = 0, j = 0; i < w * h; i++, j += 3) data.data.set([px[j]!, px[j + 1]!, px[j + 2]!, 255], i * 4);
  octx.putImageData(data, 0, 0);
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  const scale = Math.min(canvas.width / w, canvas.height / h);
  ctx.drawImage(off, (canvas.width - w * scale) / 2, (canvas.height - h * scale) / 2, w * scale, h * scale);
}

function formatDicomDate(d: string | undefined): string {
  if (!d || !/^\d{8}/.test(d)) return d ?? '';
  return `${d.slice(6, 8)}/${d.slice(4, 6)}/${d.slice(0, 4)}`;
}

export interface ViewerProps {
  title: string;
  study: ViewerStudy;
  series: ViewerSeries[];
  /** Series still being described (metadata in flight). */
  pendingSeries?: number;
  /** When the exam's KOS was resolved: the first series' first image is timed from there. */
  openedAt?: number;
  /** Called once an image of the current series is on screen. */
  onFirstImage?(): void;
  onClose(): void;
}

export function Viewer({ title, study, series, pendingSeries = 0, openedAt, onFirstImage, onClose }: ViewerProps) {
  const elementRef = useRef<HTMLDivElement>(null);
  const overlay = {
    index: useRef<HTMLSpanElement>(null),
    voi: useRef<HTMLSpanElement>(null),
    zoom: useRef<HTMLSpanElement>(null),
  };
  const [current, setCurrent] = useState(0);
  const [tool, setTool] = useState<ToolName>('Wwwc');
  const [cine, setCine] = useState(false);
  const [fps, setFps] = useState(15);
  const [progress, setProgress] = useState<{ loaded: number; total: number; failed: number }>({ loaded: 0, total: 0, failed: 0 });
  const [error, setError] = useState<string>();
  const [ready, setReady] = useState(false);
  // The first image is a reduced-resolution preview (JPEG 2000) until its full decode replaces it: no
  // measurement meanwhile, no thumbnail decodes competing with the full one.
  const [refining, setRefining] = useState(false);
  // The current series is still streaming: the other series' thumbnails wait (their requests and decodes — and
  // the codecs' first compilation — would take the cores from the images the user is looking at). Once the stream
  // has ended they go ahead of the series' remaining decodes.
  const [streaming, setStreaming] = useState(false);
  const thumbs = useRef(new Map<string, HTMLCanvasElement>());
  const defaultVoi = useRef<{ windowWidth: number; windowCenter: number }>({ windowWidth: 400, windowCenter: 40 });
  const active = series[current];
  const loadStart = useRef<{ key: string; at: number }>(undefined);

  // Enable the element and its tools once.
  useEffect(() => {
    const el = elementRef.current!;
    initCornerstone();
    cornerstone.enable(el);
    const T = cornerstoneTools;
    T.addToolForElement(el, T.WwwcTool);
    T.addToolForElement(el, T.PanTool);
    T.addToolForElement(el, T.ZoomTool, { configuration: { invert: false, minScale: 0.05, maxScale: 40, preventZoomOutsideImage: false } });
    T.addToolForElement(el, T.StackScrollMouseWheelTool);
    T.addToolForElement(el, T.LengthTool);
    T.addToolForElement(el, T.AngleTool);
    T.setToolActiveForElement(el, 'Wwwc', { mouseButtonMask: 1 });
    T.setToolActiveForElement(el, 'Pan', { mouseButtonMask: 4 });
    T.setToolActiveForElement(el, 'Zoom', { mouseButtonMask: 2 });
    T.setToolActiveForElement(el, 'StackScrollMouseWheel', {});
    T.setToolPassiveForElement(el, 'Length');
    T.setToolPassiveForElement(el, 'Angle');
    const onRendered = (e: Event) => {
      const d = (e as CustomEvent<{ viewport: CsViewport; image: CsImage }>).detail;
      const stack = T.getToolState(el, 'stack')?.data?.[0] as { imageIds: string[]; currentImageIdIndex: number } | undefined;
      if (stack && overlay.index.current) {
        const i = stack.imageIds.indexOf(d.image.imageId);
        overlay.index.current.textContent = `Image ${i + 1}/${stack.imageIds.length}`;
        el.dataset.index = String(i + 1);
      }
      if (overlay.voi.current) overlay.voi.current.textContent = `L : ${Math.round(d.viewport.voi.windowWidth)}  N : ${Math.round(d.viewport.voi.windowCenter)}`;
      if (overlay.zoom.current) overlay.zoom.current.textContent = `Zoom ${Math.round(d.viewport.scale * 100)} %`;
    };
    el.addEventListener(cornerstone.EVENTS.IMAGE_RENDERED, onRendered);
    const onContext = (e: Event) => e.preventDefault();
    el.addEventListener('contextmenu', onContext);
    const onResize = () => cornerstone.resize(el, false);
    window.addEventListener('resize', onResize);
    return () => {
      window.removeEventListener('resize', onResize);
      el.removeEventListener(cornerstone.EVENTS.IMAGE_RENDERED, onRendered);
      el.removeEventListener('contextmenu', onContext);
      try {
        T.stopClip(el);
      } catch {
        /* no clip */
      }
      cornerstone.disable(el);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  // Load the current series: first image as soon as it decodes, then the rest in the background. A streamed
  // (KOS) series comes from one series retrieval in main; its first image is fetched on its own alongside.
  useEffect(() => {
    const el = elementRef.current!;
    const s = active;
    setError(undefined);
    setReady(false);
    setRefining(false);
    setStreaming(false);
    if (!s) return;
    if (s.error && !s.imageIds.length) {
      setError(s.error);
      return;
    }
    const ids = s.imageIds;
    let cancelled = false;
    const abort = new AbortController();
    const T = cornerstoneTools;
    try {
      T.stopClip(el);
    } catch {
      /* none */
    }
    setCine(false);
    T.clearToolState(el, 'stack');
    T.addStackStateManager(el, ['stack', 'playClip']);
    T.addToolState(el, 'stack', { currentImageIdIndex: 0, imageIds: ids });
    setProgress({ loaded: 0, total: ids.length, failed: 0 });
    // The first series of an opened exam is timed from when its KOS was resolved; React StrictMode runs this
    // effect twice in a row: time the series from the first run.
    const prev = loadStart.current;
    const since = openedAt !== undefined && !loadStart.current ? openedAt : performance.now();
    const started = prev && prev.key === s.key && performance.now() - prev.at < 1000 ? prev.at : since;
    loadStart.current = { key: s.key, at: started };
    el.dataset.total = String(ids.length);
    delete el.dataset.firstImageMs;
    delete el.dataset.fullLoadMs;
    delete el.dataset.streamMs;
    delete el.dataset.fullFirstImageMs;
    delete el.dataset.firstImageReduced;
    delete el.dataset.preview;
    delete el.dataset.firstRecordMs;
    delete el.dataset.refining;
    const statsAtStart = { frames: decodeStats.frames, ms: decodeStats.totalMs };
    void (async () => {
      // The first image on its own request; the series stream once that image's record is in — or, for a
      // compressed series, once it is on screen (its decode does not share the cores with the stream's).
      // Progressive first image (JPEG 2000): a reduced-resolution decode shown while the full one finishes.
      const preview = s.stream && !(cornerstone.imageCache.getImageLoadObject(ids[0]!) as unknown) ? requestPreview(ids[0]!) : undefined;
      const first = cornerstone.loadAndCacheImage(ids[0]!);
      // (Not again for a series whose images are all in cornerstone's cache already.)
      const stream = s.stream && ids.some((id) => !(cornerstone.imageCache.getImageLoadObject(id) as unknown)) ? s.stream : undefined;
      if (stream) setStreaming(true);
      let streamed: Promise<void> | undefined;
      const startStream = () => {
        if (!stream || streamed || abort.signal.aborted) return;
        streamed = frameStore.stream(stream.base, abort.signal).then(() => {
          el.dataset.streamMs = String(Math.round(performance.now() - started));
        });
        streamed.finally(() => !cancelled && setStreaming(false)).catch(() => undefined);
      };
      if (stream) {
        frameStore.instance(stream.base, stream.sops[0]!).then(
          (r) => {
            el.dataset.firstRecordMs ??= String(Math.round(performance.now() - started));
            if (NATIVE_SYNTAXES.has(r.ts)) startStream();
          },
          () => undefined,
        );
      }
      const full = (first as Promise<CsImage>).then((image) => ({ image, reduced: false }));
      full.then(
        () => dropPreview(ids[0]!),
        () => dropPreview(ids[0]!),
      );
      // `data-preview`: what became of the preview (bench, tests): shown, late (the full image came first), or why none.
      preview?.then((p) => (el.dataset.preview ??= 'image' in p ? 'late' : p.none));
      const shownFirst = preview
        ? Promise.race([full, preview.then((p) => ('image' in p ? { image: p.image as unknown as CsImage, reduced: true } : full))])
        : full;
      const voiOf = (image: CsImage, vp: CsViewport) => ({ windowWidth: first0(image.windowWidth) || vp.voi.windowWidth, windowCenter: first0(image.windowCenter) || vp.voi.windowCenter });
      try {
        const shown = await shownFirst;
        if (cancelled) return;
        const vp = cornerstone.getDefaultViewportForImage(el, shown.image as never) as unknown as CsViewport;
        cornerstone.displayImage(el, shown.image as never, vp as never);
        defaultVoi.current = voiOf(shown.image, vp);
        el.dataset.firstImageMs = String(Math.round(performance.now() - started));
        if (shown.reduced) {
          el.dataset.firstImageReduced = '1';
          el.dataset.preview = 'shown';
          el.dataset.refining = '1';
          setRefining(true);
          setReady(true);
          // The full-resolution image replaces the preview as soon as it is decoded (viewport kept: zoom, pan,
          // rotation, a window the user already changed; the default window follows the full image).
          const { image } = await full;
          if (cancelled) return;
          if ((cornerstone.getImage(el) as unknown) === shown.image) {
            const now = cornerstone.getViewport(el) as unknown as CsViewport;
            const untouched = now.voi.windowWidth === vp.voi.windowWidth && now.voi.windowCenter === vp.voi.windowCenter;
            const fullVp = cornerstone.getDefaultViewportForImage(el, image as never) as unknown as CsViewport;
            if (untouched) now.voi = { ...fullVp.voi };
            cornerstone.displayImage(el, image as never, now as never);
            defaultVoi.current = voiOf(image, fullVp);
          }
          delete el.dataset.refining;
          setRefining(false);
          el.dataset.fullFirstImageMs = String(Math.round(performance.now() - started));
        } else {
          setReady(true);
          el.dataset.fullFirstImageMs = el.dataset.firstImageMs;
        }
        startStream(); // before the other images are asked for: they wait for their records
        onFirstImage?.();
      } catch (err) {
        if (!cancelled) {
          setRefining(false);
          setError(`L'image n'a pas pu être chargée : ${(err as Error)?.message ?? String(err)}`);
          setStreaming(false);
        }
        abort.abort();
        return;
      }
      let loaded = 1;
      let failed = 0;
      let lastPaint = 0;
      const done = new Set<string>([ids[0]!]);
      const loadAll = async (list: string[], concurrency: number) => {
        let next = 0;
        const work = async () => {
          while (!cancelled && next < list.length) {
            const id = list[next++]!;
            if (done.has(id)) continue;
            done.add(id);
            try {
              await cornerstone.loadAndCacheImage(id);
              loaded++;
            } catch {
              failed++;
            }
            if (performance.now() - lastPaint > 120) {
              lastPaint = performance.now();
              if (!cancelled) setProgress({ loaded, total: ids.length, failed });
            }
          }
        };
        await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, work));
      };
      // Streamed images wait for their record (no request each): ask for all of them at once. Other sources
      // (local files) a few at a time.
      await loadAll(ids.slice(), s.stream ? ids.length : PRELOAD_CONCURRENCY);
      await streamed;
      if (cancelled) return;
      if (s.stream) {
        // Now that every instance is known: the stack in instance-number order, with all frames.
        const ordered = orderedImageIds(s.stream);
        if (ordered.join('\n') !== ids.join('\n')) {
          const stack = T.getToolState(el, 'stack')?.data?.[0] as { imageIds: string[]; currentImageIdIndex: number } | undefined;
          const shown = stack ? ids[stack.currentImageIdIndex] : undefined;
          ids.splice(0, ids.length, ...ordered);
          if (stack && shown) stack.currentImageIdIndex = Math.max(0, ids.indexOf(shown));
          el.dataset.total = String(ids.length);
          cornerstone.updateImage(el);
          await loadAll(ordered, ordered.length);
          if (cancelled) return;
        }
      }
      setProgress({ loaded, total: ids.length, failed });
      el.dataset.fullLoadMs = String(Math.round(performance.now() - started));
      el.dataset.decodedFrames = String(decodeStats.frames - statsAtStart.frames);
      el.dataset.decodeMs = String(Math.round(decodeStats.totalMs - statsAtStart.ms));
      // Cumulative figures of the page (the benchmark diffs them between series).
      el.dataset.decodeFramesTotal = String(decodeStats.frames);
      el.dataset.decodeMsTotal = String(Math.round(decodeStats.totalMs));
    })();
    return () => {
      cancelled = true;
      abort.abort();
      dropPreview(ids[0]!);
      if (s.stream) frameStore.cancel(s.stream.base);
    };
    // Keyed on the series (its description may be filled in later without reloading it).
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [current, active?.key]);

  // Thumbnails: one image per series (the middle one), drawn once the current series has streamed; each series on
  // its own (the current one's middle image came with its stream), decoded ahead of the current series' remaining
  // images. A thumbnail started is always finished (the series list may change meanwhile: the canvas stays, keyed
  // by its series).
  useEffect(() => {
    if (!ready || refining || streaming) return;
    for (const s of series) {
      const canvas = thumbs.current.get(s.key);
      if (!canvas || canvas.dataset.drawn || canvas.dataset.drawing || !s.imageIds.length) continue;
      canvas.dataset.drawing = '1';
      void cornerstone
        .loadAndCacheImage(s.imageIds[Math.floor(s.imageIds.length / 2)]!, { [AHEAD]: true })
        .then((image) => {
          drawThumbnail(canvas, image as unknown as CsImage);
          canvas.dataset.drawn = '1';
        })
        .catch(() => undefined /* the series card shows its error */)
        .finally(() => delete canvas.dataset.drawing);
    }
  }, [ready, refining, streaming, series]);

  // Measurements only on the full-resolution image: Length/Angle off while the preview is shown.
  useEffect(() => {
    const el = elementRef.current!;
    const T = cornerstoneTools;
    for (const m of MEASUREMENT_TOOLS) {
      if (refining) T.setToolDisabledForElement(el, m);
      else if (m === tool) T.setToolActiveForElement(el, m, { mouseButtonMask: 1 });
      else T.setToolPassiveForElement(el, m);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [refining]);

  const withViewport = useCallback((fn: (vp: CsViewport) => void) => {
    const el = elementRef.current!;
    try {
      const vp = cornerstone.getViewport(el) as unknown as CsViewport | undefined;
      if (!vp) return;
      fn(vp);
      cornerstone.setViewport(el, vp as never);
    } catch {
      /* no image yet */
    }
  }, []);

  const chooseTool = (t: ToolName) => {
    const el = elementRef.current!;
    setTool(t);
    cornerstoneTools.setToolActiveForElement(el, t, { mouseButtonMask: 1 });
    for (const m of MEASUREMENT_TOOLS) if (m !== t) (refining ? cornerstoneTools.setToolDisabledForElement : cornerstoneTools.setToolPassiveForElement)(el, m);
  };

  const scrollBy = (delta: number) => {
    const el = elementRef.current!;
    const stack = cornerstoneTools.getToolState(el, 'stack')?.data?.[0] as { imageIds: string[]; currentImageIdIndex: number } | undefined;
    if (!stack) return;
    const target = Math.max(0, Math.min(stack.imageIds.length - 1, stack.currentImageIdIndex + delta));
    if (target !== stack.currentImageIdIndex) cornerstoneTools.importInternal('util/scrollToIndex')(el, target);
  };

  const toggleCine = () => {
    const el = elementRef.current!;
    if (cine) cornerstoneTools.stopClip(el);
    else cornerstoneTools.playClip(el, fps);
    setCine(!cine);
  };

  const onKey = (e: ReactKeyboardEvent) => {
    const steps: Record<string, number> = { ArrowDown: 1, ArrowRight: 1, ArrowUp: -1, ArrowLeft: -1, PageDown: 10, PageUp: -10, Home: -1e9, End: 1e9 };
    const d = steps[e.key];
    if (d !== undefined) {
      e.preventDefault();
      scrollBy(d);
    }
  };

  const presets = presetsFor(active?.modality);

  return (
    <section className="viewer" aria-label="Visionneuse d'images">
      <div className="viewer-head">
        <button type="button" className="button button-secondary" onClick={onClose}>
          ← Retour aux examens
        </button>
        <h2 className="viewer-title">{title}</h2>
      </div>
      <div className="viewer-toolbar" role="toolbar" aria-label="Outils de la visionneuse">
        <div className="viewer-group" role="group" aria-label="Outil du bouton gauche">
          {TOOLS.map((t) => (
            <button
              key={t.id}
              type="button"
              className={`viewer-tool${tool === t.id ? ' active' : ''}`}
              aria-pressed={tool === t.id}
              disabled={refining && MEASUREMENT_TOOLS.includes(t.id)}
              title={refining && MEASUREMENT_TOOLS.includes(t.id) ? 'Disponible dès l’image en pleine résolution' : undefined}
              onClick={() => chooseTool(t.id)}
            >
              {t.label}
            </button>
          ))}
        </div>
        <label className="viewer-group">
          <span>Préréglage</span>
          <select
            aria-label="Préréglage de fenêtre"
            defaultValue=""
            onChange={(e) => {
              const p = presets.find((x) => x.id === e.target.value);
              if (p) withViewport((vp) => (vp.voi = applyPreset(p, defaultVoi.current)));
              e.target.value = '';
            }}
          >
            <option value="" disabled>
              {active?.modality === 'CT' ? 'Scanner…' : 'IRM / autre…'}
            </option>
            {presets.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
                {p.relative ? '' : ` (L ${p.width} / N ${p.center})`}
              </option>
            ))}
          </select>
        </label>
        <div className="viewer-group" role="group" aria-label="Affichage">
          <button type="button" className="viewer-tool" onClick={() => withViewport((vp) => (vp.invert = !vp.invert))}>
            Inverser
          </button>
          <button type="button" className="viewer-tool" onClick={() => withViewport((vp) => (vp.rotation = (vp.rotation + 90) % 360))}>
            Rotation 90°
          </button>
          <button type="button" className="viewer-tool" onClick={() => withViewport((vp) => (vp.hflip = !vp.hflip))}>
            Miroir H
          </button>
          <button type="button" className="viewer-tool" onClick={() => withViewport((vp) => (vp.vflip = !vp.vflip))}>
            Miroir V
          </button>
          <button type="button" className="viewer-tool" onClick={() => cornerstone.fitToWindow(elementRef.current!)}>
            Ajuster
          </button>
          <button
            type="button"
            className="viewer-tool"
            onClick={() => {
              const el = elementRef.current!;
              cornerstoneTools.clearToolState(el, 'Length');
              cornerstoneTools.clearToolState(el, 'Angle');
              cornerstone.reset(el);
            }}
          >
            Réinitialiser
          </button>
        </div>
        <div className="viewer-group" role="group" aria-label="Ciné">
          <button type="button" className={`viewer-tool${cine ? ' active' : ''}`} aria-pressed={cine} onClick={toggleCine}>
            {cine ? 'Arrêter le ciné' : 'Ciné'}
          </button>
          <label>
            <span className="visually-hidden">Images par seconde</span>
            <select aria-label="Images par seconde" value={fps} onChange={(e) => setFps(Number(e.target.value))} disabled={cine}>
              {[5, 10, 15, 25, 30].map((n) => (
                <option key={n} value={n}>
                  {n} im/s
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>
      <div className="viewer-body">
        <ol className="viewer-series" aria-label="Séries">
          {series.map((s, i) => (
            <li key={s.key}>
              <button
                type="button"
                className={`viewer-series-item${i === current ? ' active' : ''}`}
                aria-current={i === current ? 'true' : undefined}
                onClick={() => setCurrent(i)}
                disabled={!s.imageIds.length}
                title={s.error ?? undefined}
              >
                <canvas
                  className="viewer-thumb"
                  width={96}
                  height={96}
                  aria-hidden="true"
                  ref={(c) => {
                    if (c) thumbs.current.set(s.key, c);
                  }}
                />
                <span className="viewer-series-label">
                  <strong>{s.modality ?? '—'}</strong> {s.description ?? `Série ${s.number ?? i + 1}`}
                  <span className="muted">{s.error ?? `${s.imageIds.length} image(s)`}</span>
                </span>
              </button>
            </li>
          ))}
          {pendingSeries > 0 ? <li className="muted">{pendingSeries} série(s) en cours de description…</li> : null}
        </ol>
        <div className="viewer-stage">
          <div
            className="viewer-viewport"
            ref={elementRef}
            tabIndex={0}
            role="img"
            aria-label="Image affichée — molette ou flèches pour parcourir la série"
            data-testid="viewer-viewport"
            onKeyDown={onKey}
          />
          <div className="viewer-overlay" aria-live="off">
            <div className="viewer-overlay-tl">
              <span>{study.patientName ?? ''}</span>
              <span>{study.patientId ? `ID ${study.patientId}` : ''}</span>
              <span>{study.studyDate ? `Examen du ${formatDicomDate(study.studyDate)}` : ''}</span>
            </div>
            <div className="viewer-overlay-tr">
              <span>{study.studyDescription ?? ''}</span>
              <span>{active ? `${active.modality ?? ''} ${active.description ?? ''}`.trim() : ''}</span>
              <span ref={overlay.index} data-testid="viewer-index" />
              {refining ? (
                <span className="viewer-refining" data-testid="viewer-refining" title="Image en cours d’affinage (pleine résolution)">
                  …
                </span>
              ) : null}
            </div>
            <div className="viewer-overlay-bl">
              <span ref={overlay.voi} data-testid="viewer-voi" />
              <span ref={overlay.zoom} />
            </div>
          </div>
          {!ready && !error ? (
            <div className="viewer-message" role="status">
              <span className="spinner" aria-hidden="true" /> Chargement de la première image…
            </div>
          ) : null}
          {error ? (
            <div className="viewer-message viewer-error" role="alert">
              {error}
            </div>
          ) : null}
        </div>
      </div>
      <div className="viewer-status">
        <label className="viewer-progress">
          <span>
            {progress.total ? `Images chargées : ${progress.loaded}/${progress.total}` : 'Aucune image'}
            {progress.failed ? ` — ${progress.failed} en échec` : ''}
          </span>
          <progress max={Math.max(1, progress.total)} value={progress.loaded} data-testid="viewer-progress" />
        </label>
        <span className="muted">Molette ou ↑/↓ : parcourir · Pg préc./suiv. : 10 images · clic droit : zoom · clic molette : déplacer</span>
      </div>
    </section>
  );
}
