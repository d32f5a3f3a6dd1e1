/**
 * Browser-side bridge of the harness: defines `window.lps` like the Electron preload does, over HTTP
 * (requests) and Server-Sent Events (event streams) to the harness server on loopback. It is served by
 * the harness only and is never part of the packaged app. Plain browser script, no imports.
 */
(() => {
  type Listener = (payload: unknown) => void;
  const listeners = new Map<string, Set<Listener>>();
  let source: EventSource | undefined;

  function ensureEvents(): void {
    if (source) return;
    source = new EventSource('/__lps/events');
    source.addEventListener('lps', (m: MessageEvent<string>) => {
      const { name, payload } = JSON.parse(m.data) as { name: string; payload: unknown };
      listeners.get(name)?.forEach((l) => l(payload));
    });
  }

  const bridge = {
    async invoke(method: string, input: unknown): Promise<unknown> {
      let res: Response;
      try {
        res = await fetch('/__lps/invoke', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          credentials: 'same-origin',
          body: JSON.stringify({ method, input }),
        });
      } catch (err) {
        return { ok: false, error: { code: 'HARNESS_UNREACHABLE', message: 'Le service local ne répond pas. Relancez « npm run dev:web ».', detail: String(err) } };
      }
      if (!res.ok) {
        return { ok: false, error: { code: `HARNESS_HTTP_${res.status}`, message: 'Le service local a refusé la demande.', detail: await res.text() } };
      }
      return res.json();
    },
    on(event: string, listener: Listener): () => void {
      ensureEvents();
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
      };
    },
    streamUrl(scheme: string, path: string): string {
      return `/__lps/stream/${encodeURIComponent(scheme)}/${path.replace(/^\/+/, '')}`;
    },
  };
  Object.defineProperty(window, 'lps', { value: Object.freeze(bridge), configurable: false, writable: false });
})();
