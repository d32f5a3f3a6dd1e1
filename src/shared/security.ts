/**
 * Content-Security-Policy of the renderer, in Electron (response header + meta) and in the browser
 * harness. No remote content: everything comes from the app's own origin.
 * - `wasm-unsafe-eval` lets the imaging codecs (WebAssembly) compile; it does not allow `eval`.
 * - `blob:` workers for the image decoders; `data:`/`blob:` images for thumbnails and PDFs.
 */
export const RENDERER_CSP = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' data: blob: lps-imaging:",
  "font-src 'self'",
  "connect-src 'self' lps-imaging:",
  "worker-src 'self' blob:",
  "frame-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Streaming schemes: data the renderer loads by URL (images of the viewer) without ever seeing a token.
 * Electron serves them as privileged custom protocols; the browser harness under `/__lps/stream/<scheme>/`.
 */
export const STREAM_SCHEMES = ['lps-imaging'] as const;
export type StreamScheme = (typeof STREAM_SCHEMES)[number];

/** The custom scheme the packaged renderer is served from (Electron). */
export const APP_SCHEME = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://lps`;
