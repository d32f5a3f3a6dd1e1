/**
 * DICOM RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, one PackBits-style segment per
 * byte plane (most significant first) per sample. Output is little-endian; colour samples are interleaved
 * (PlanarConfiguration 0) or by plane (1), as the frame declares — what the loader's colour conversion reads.
 */
export function decodeRle(data: Uint8Array, f: { rows: number; columns: number; bitsAllocated: number; samplesPerPixel: number; planarConfiguration?: number }): Uint8Array {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (data.length < 64) throw new Error('RLE : en-tête tronqué');
  const segments = view.getUint32(0, true);
  const bytesPerSample = f.bitsAllocated / 8;
  const pixels = f.rows * f.columns;
  if (segments !== bytesPerSample * f.samplesPerPixel) throw new Error(`RLE : ${segments} segments pour ${bytesPerSample * f.samplesPerPixel} attendus`);
  const out = new Uint8Array(pixels * bytesPerSample * f.samplesPerPixel);
  for (let s = 0; s < segments; s++) {
    const start = view.getUint32(4 + s * 4, true);
    const end = s + 1 < segments ? view.getUint32(8 + s * 4, true) : data.length;
    if (start < 64 || start > end || end > data.length) throw new Error('RLE : segment hors limites');
    const sample = Math.floor(s / bytesPerSample);
    const byteInSample = bytesPerSample - 1 - (s % bytesPerSample); // segments go from the most significant byte
    const planar = f.samplesPerPixel > 1 && f.planarConfiguration === 1;
    const stride = planar ? bytesPerSample : bytesPerSample * f.samplesPerPixel;
    let o = planar ? sample * pixels * bytesPerSample + byteInSample : sample * bytesPerSample + byteInSample;
    const limit = planar ? (sample + 1) * pixels * bytesPerSample : out.length;
    let i = start;
    while (i < end && o < limit) {
      const n = (data[i++]! << 24) >> 24;
      if (n >= 0) {
        for (let k = 0; k <= n && i < end && o < limit; k++, o += stride) out[o] = data[i++]!;
      } else if (n !== -128) {
        const v = data[i++]!;
        for (let k = 0; k < 1 - n && o < limit; k++, o += stride) out[o] = v;
      }
    }
  }
  return out;
}
