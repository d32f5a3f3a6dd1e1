import { describe, expect, it, vi } from 'vitest';
import { instanceRecord } from '../../../src/main/imaging/frame-stream';
import { parseDicom } from '../../../src/main/imaging/dicom/parser';
import { writePart10 } from '../../../src/main/imaging/dicom/writer';
import { recordsOf, type InstanceRecord } from '../../../src/renderer/src/features/imaging/record-reader';

/** A 2-frame native instance with distinct pixel values per frame. */
function instance(sop: string, seed: number): Buffer {
  const px = Buffer.alloc(2 * 4 * 4 * 2);
  for (let i = 0; i < px.length / 2; i++) px.writeUInt16LE((seed * 1000 + i) & 0xffff, i * 2);
  return writePart10([
    [0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.2'],
    [0x00080018, 'UI', sop],
    [0x00280002, 'US', 1],
    [0x00280004, 'CS', 'MONOCHROME2'],
    [0x00280008, 'IS', '2'],
    [0x00280010, 'US', 4],
    [0x00280011, 'US', 4],
    [0x00280100, 'US', 16],
    [0x00280101, 'US', 16],
    [0x00280103, 'US', 0],
    [0x7fe00010, 'OW', px],
  ]);
}

const stream = Buffer.concat(['1.2.3.1', '1.2.3.2', '1.2.3.3'].flatMap((sop, i) => instanceRecord(sop, parseDicom(instance(sop, i)))));

/** The stream cut in `size`-byte pieces, as a byte stream (BYOB reads) or a default one. */
function body(bytes: Buffer, size: number, bytesType: boolean): ReadableStream<Uint8Array> {
  let at = 0;
  const next = () => {
    const piece = new Uint8Array(bytes.subarray(at, at + size));
    at += piece.length;
    return piece;
  };
  return bytesType
    ? new ReadableStream({
        type: 'bytes',
        pull(c) {
          if (at < bytes.length) return c.enqueue(next());
          c.close();
          c.byobRequest?.respond(0); // a pending BYOB read ends with the stream (as a fetch body does)
        },
      })
    : new ReadableStream<Uint8Array>({
        pull(c) {
          if (at >= bytes.length) return c.close();
          c.enqueue(next());
        },
      });
}

const modes: string[] = [];

async function read(b: ReadableStream<Uint8Array>, chunked = false): Promise<InstanceRecord[]> {
  const out: InstanceRecord[] = [];
  const spy = vi.spyOn(b, 'getReader');
  await recordsOf(b, (r) => out.push(r), { chunked });
  modes.push(...spy.mock.calls.map((c) => (c[0] as { mode?: string } | undefined)?.mode ?? 'default'));
  return out;
}

describe('viewer record reader', () => {
  const expected = (sop: string, seed: number) => {
    const p = instance(sop, seed);
    const px = p.subarray(p.length - 64);
    return [px.subarray(0, 32), px.subarray(32)].map((f) => [...f]);
  };

  for (const [name, bytesType, chunked] of [
    ['byte stream, BYOB reads', true, false],
    ['default stream, chunked reads', false, true],
  ] as const) {
    it(`${name}: every instance and frame, whatever the network chunking, each frame in a buffer of its own`, async () => {
      modes.length = 0;
      for (const size of [1, 3, 7, 64, 1000, stream.length]) {
        const got = await read(body(stream, size, bytesType), chunked);
        expect(got.map((r) => r.sop)).toEqual(['1.2.3.1', '1.2.3.2', '1.2.3.3']);
        got.forEach((r, i) => {
          expect(r.frameCount).toBe(2);
          expect(r.metadata['00280010']?.Value).toEqual([4]);
          // Exactly the frame's bytes, alone in their buffer (transferable to a decoder without a copy).
          expect(r.frames.map((f) => f!.byteLength)).toEqual([32, 32]);
          expect(r.frames.map((f) => [...new Uint8Array(f!)])).toEqual(expected(r.sop, i));
        });
      }
      expect(new Set(modes)).toEqual(new Set([bytesType ? 'byob' : 'default']));
    });

    it(`${name}: a stream cut mid-record is an error, not a short series`, async () => {
      await expect(read(body(stream.subarray(0, stream.length - 5), 100, bytesType), chunked)).rejects.toThrow('Flux d’images interrompu.');
      await expect(read(body(stream.subarray(0, 2), 100, bytesType), chunked)).rejects.toThrow('Flux d’images interrompu.');
      expect(await read(body(Buffer.alloc(0), 100, bytesType), chunked)).toEqual([]);
    });
  }

  it('falls back to chunked reads on a stream that is not a byte stream', async () => {
    expect((await read(body(stream, 50, false))).map((r) => r.sop)).toEqual(['1.2.3.1', '1.2.3.2', '1.2.3.3']);
  });
});
