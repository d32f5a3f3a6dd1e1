/// <reference lib="webworker" />
/**
 * The viewer's decode worker: what cornerstone-wado-image-loader's own worker does (decode one frame by
 * transfer syntax, sign-extend, optional modality rescale, min/max), but with the current WebAssembly codec
 * builds, which need no `eval`/`new Function` — so the worker runs under the app's strict CSP
 * (`script-src 'self' 'wasm-unsafe-eval'`). The codecs (.wasm) are files of the app, loaded on first use.
 */
import charlsFactory from '@cornerstonejs/codec-charls/decodewasmjs';
import charlsWasm from '@cornerstonejs/codec-charls/decodewasm?url';
import libjpegFactory from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs';
import libjpegWasm from '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasm?url';
import openjpegFactory from '@cornerstonejs/codec-openjpeg/decodewasmjs';
import openjpegWasm from '@cornerstonejs/codec-openjpeg/decodewasm?url';
import { decodeJ2K, decodeJ2KReduced, upsample, type J2KModule } from './j2k';
import { decodeJpegLossless } from './jpeg-lossless';
import { finishFrame, typed, type DecodeRequest, type ImageFrame, type Samples } from './frame-pixels';
import { decodeRle } from './rle';

export type { DecodeRequest, ImageFrame };

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
  isSigned?: boolean;
}
interface WasmDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  getFrameInfo(): FrameInfo;
  decode(): void;
  delete(): void;
}
type CodecModule = Record<string, new () => WasmDecoder>;

const modules = new Map<string, Promise<CodecModule>>();
function codec(name: string, factory: (o: object) => Promise<Record<string, unknown>>, wasm: string): Promise<CodecModule> {
  let m = modules.get(name);
  if (!m) {
    m = factory({ locateFile: () => wasm, print: () => {}, printErr: () => {} }) as Promise<CodecModule>;
    modules.set(name, m);
  }
  return m;
}

async function wasmDecode(mod: Promise<CodecModule>, cls: string, data: Uint8Array): Promise<{ info: FrameInfo; bytes: Uint8Array }> {
  const m = await mod;
  const dec = new m[cls]!();
  try {
    dec.getEncodedBuffer(data.length).set(data);
    dec.decode();
    // Copy out of the WebAssembly heap before the decoder is freed.
    return { info: dec.getFrameInfo(), bytes: new Uint8Array(dec.getDecodedBuffer()) };
  } finally {
    dec.delete();
  }
}

export const SUPPORTED_TRANSFER_SYNTAXES = [
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.2',
  '1.2.840.10008.1.2.5',
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.57',
  '1.2.840.10008.1.2.4.70',
  '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81',
  '1.2.840.10008.1.2.4.90',
  '1.2.840.10008.1.2.4.91',
];

async function decodePixels(ts: string, f: ImageFrame, data: Uint8Array, reduce = 0): Promise<ArrayLike<number> & { length: number; buffer: ArrayBufferLike }> {
  const signed = f.pixelRepresentation === 1;
  switch (ts) {
    case '1.2.840.10008.1.2':
    case '1.2.840.10008.1.2.1':
    case '1.2.840.10008.1.2.1.99': // deflate applies to the data set: the pixel data is already inflated
      return typed(data, f.bitsAllocated, signed);
    case '1.2.840.10008.1.2.2': {
      const copy = data.slice();
      if (f.bitsAllocated === 16) for (let i = 0; i + 1 < copy.length; i += 2) [copy[i], copy[i + 1]] = [copy[i + 1]!, copy[i]!];
      return typed(copy, f.bitsAllocated, signed);
    }
    case '1.2.840.10008.1.2.5':
      return typed(decodeRle(data, f), f.bitsAllocated, signed);
    case '1.2.840.10008.1.2.4.50':
    case '1.2.840.10008.1.2.4.51': {
      const { bytes } = await wasmDecode(codec('libjpeg', libjpegFactory, libjpegWasm), 'JPEGDecoder', data);
      return bytes;
    }
    case '1.2.840.10008.1.2.4.57':
    case '1.2.840.10008.1.2.4.70': {
      const j = decodeJpegLossless(data);
      if (f.bitsAllocated <= 8 && j.pixels instanceof Uint16Array) throw new Error(`Précision JPEG ${j.precision} bits pour ${f.bitsAllocated} bits alloués`);
      const samples = f.bitsAllocated > 8 && j.pixels instanceof Uint8Array ? Uint16Array.from(j.pixels) : j.pixels;
      return typed(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength), f.bitsAllocated > 8 ? 16 : 8, signed);
    }
    case '1.2.840.10008.1.2.4.80':
    case '1.2.840.10008.1.2.4.81': {
      const { info, bytes } = await wasmDecode(codec('charls', charlsFactory, charlsWasm), 'JpegLSDecoder', data);
      return typed(bytes, info.bitsPerSample > 8 ? 16 : 8, signed);
    }
    case '1.2.840.10008.1.2.4.90':
    case '1.2.840.10008.1.2.4.91': {
      const mod = (await codec('openjpeg', openjpegFactory, openjpegWasm)) as unknown as J2KModule;
      if (reduce > 0 && f.samplesPerPixel !== 1) throw new Error('Aperçu réduit : image en couleur');
      const d = reduce > 0 ? decodeJ2KReduced(mod, data, reduce) : decodeJ2K(mod, data);
      const samples = typed(d.bytes, d.info.bitsPerSample > 8 ? 16 : 8, d.info.isSigned ?? signed) as Uint8Array | Int8Array | Uint16Array | Int16Array;
      if (!reduce) return samples;
      if (d.info.width !== f.columns || d.info.height !== f.rows) throw new Error(`Aperçu réduit : ${d.info.width}×${d.info.height} pour ${f.columns}×${f.rows}`);
      f.reduced = d.level;
      return upsample(samples, d.width, d.height, f.columns, f.rows, d.level);
    }
    default:
      throw new Error(`Syntaxe de transfert non prise en charge par la visionneuse : ${ts}`);
  }
}

export async function decodeFrame(req: Omit<DecodeRequest, 'id'>): Promise<ImageFrame> {
  const started = performance.now();
  const reduce = req.options?.reduce ?? 0;
  if (reduce && req.transferSyntax !== '1.2.840.10008.1.2.4.90' && req.transferSyntax !== '1.2.840.10008.1.2.4.91') throw new Error('Aperçu réduit : JPEG 2000 seulement');
  const pixels = (await decodePixels(req.transferSyntax, req.imageFrame, new Uint8Array(req.pixelData), reduce)) as Samples;
  return finishFrame(req.imageFrame, pixels, req.options, started);
}

/** Compiles the codecs ahead of the first compressed frame (the WebAssembly compile is the slow part). */
function warm(): void {
  void codec('charls', charlsFactory, charlsWasm).catch(() => undefined);
  void codec('openjpeg', openjpegFactory, openjpegWasm).catch(() => undefined);
  void codec('libjpeg', libjpegFactory, libjpegWasm).catch(() => undefined);
}

const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = (e: MessageEvent<DecodeRequest | { warm: true }>) => {
  if ('warm' in e.data) return warm();
  const { id, ...req } = e.data;
  decodeFrame(req).then(
    (result) => scope.postMessage({ id, ok: true, result }, [result.pixelData as ArrayBuffer]),
    (err: unknown) => scope.postMessage({ id, ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
};
