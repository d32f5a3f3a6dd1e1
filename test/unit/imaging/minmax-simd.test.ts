import { describe, expect, it } from 'vitest';
import { minMaxModuleBytes, simdMinMax16 } from '../../../src/renderer/src/features/imaging/minmax-simd';

const reference = (p: ArrayLike<number>): [number, number] => [Math.min(...Array.from(p)), Math.max(...Array.from(p))];

/** Deterministic pseudo-random 16-bit samples. */
function samples(n: number, seed: number, signed: boolean): Int16Array | Uint16Array {
  const a = signed ? new Int16Array(n) : new Uint16Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    a[i] = x >>> 16;
  }
  return a;
}

describe('SIMD min/max of 16-bit samples', () => {
  const mm = simdMinMax16();

  it('assembles a valid module (SIMD is available in Node, Chromium and Electron)', () => {
    expect(WebAssembly.validate(minMaxModuleBytes())).toBe(true);
    expect(mm).toBeTypeOf('function');
  });

  it('agrees with a plain scan for every length around the 8-sample blocks, signed and unsigned', () => {
    for (const signed of [true, false])
      for (let n = 1; n <= 40; n++)
        for (let seed = 1; seed <= 5; seed++) {
          const a = samples(n, seed * 97 + n, signed);
          expect(mm!(a), `n=${n} seed=${seed} signed=${signed}`).toEqual(reference(a));
        }
  });

  it('finds extremes in the vector part, in the tail, and the full 16-bit ranges', () => {
    const a = new Int16Array(1021).fill(100);
    a[3] = -32768;
    a[1020] = 32767; // in the tail (1021 = 127 × 8 + 5)
    expect(mm!(a)).toEqual([-32768, 32767]);
    const u = new Uint16Array(1021).fill(100);
    u[1019] = 0;
    u[8] = 65535;
    expect(mm!(u)).toEqual([0, 65535]);
    expect(mm!(new Int16Array([-5]))).toEqual([-5, -5]);
    expect(mm!(new Int16Array(0))).toEqual([0, 0]);
  });

  it('reads views at any offset and grows its memory for large frames (1024² and after a smaller one)', () => {
    const big = samples(1024 * 1024 + 3, 7, true) as Int16Array;
    expect(mm!(big.subarray(1, 513))).toEqual(reference(big.subarray(1, 513)));
    const whole = mm!(big);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of big) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect(whole).toEqual([lo, hi]);
    expect(mm!(samples(100, 3, false))).toEqual(reference(samples(100, 3, false)));
  });
});
