import { AppError } from '../core/errors';
import { parseDicom, type ParsedDicom } from './dicom/parser';
import { viewerMetadata, type DicomJson } from './dicom-json';
import type { DicomwebClient, RetrievedInstance, SeriesTarget } from './dicomweb-client';
import { framesOf } from './frames';

/**
 * The viewer's bulk path (main → renderer, our own internal format on the `lps-imaging` scheme): one WADO-RS
 * retrieval of a whole series (or of one instance) from the PACS, re-sent to the renderer as a stream of
 * instance records, each carrying the instance's metadata (DICOM JSON, built here from the Part 10 header) and
 * its frames as the WADO-RS frames resource would give them (native pixels, or each frame's compressed
 * bitstream). The renderer registers the metadata and hands the frames straight to its decoders: no request
 * per frame, no `…/metadata` round trip before the first image, no multipart scan in the renderer.
 *
 * Record (little endian): `u32 headerLength`, the header (UTF-8 JSON, {@link FrameRecordHeader}), then the
 * frames back to back (`header.frames` gives their lengths). Records follow each other until the end of the
 * stream; a failure mid-way aborts the stream (the renderer fetches what it is missing instance by instance).
 */

export const FRAME_STREAM_TYPE = 'application/x-lps-frames';

export interface FrameRecordHeader {
  sop: string;
  ts: string;
  metadata: DicomJson;
  frames: number[];
}

/** One instance as a record: header chunk, then the frame buffers (views, no copy). */
export function instanceRecord(sop: string, parsed: ParsedDicom): Buffer[] {
  const { transferSyntaxUid, frames } = framesOf(parsed);
  const header: FrameRecordHeader = { sop, ts: transferSyntaxUid, metadata: viewerMetadata(parsed.dataset, transferSyntaxUid), frames: frames.map((f) => f.length) };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const head = Buffer.allocUnsafe(4 + json.length);
  head.writeUInt32LE(json.length, 0);
  json.copy(head, 4);
  return [head, ...frames];
}

/** Decodes a record stream (tests and tools; the renderer has its own incremental reader). */
export function* readRecords(bytes: Buffer): Generator<{ header: FrameRecordHeader; frames: Buffer[] }> {
  let o = 0;
  while (o < bytes.length) {
    if (o + 4 > bytes.length) throw new Error('truncated record');
    const n = bytes.readUInt32LE(o);
    const header = JSON.parse(bytes.subarray(o + 4, o + 4 + n).toString('utf8')) as FrameRecordHeader;
    o += 4 + n;
    const frames: Buffer[] = [];
    for (const len of header.frames) {
      if (o + len > bytes.length) throw new Error('truncated frame');
      frames.push(bytes.subarray(o, o + len));
      o += len;
    }
    yield { header, frames };
  }
}

function toRecord(inst: RetrievedInstance): Buffer[] | undefined {
  try {
    return instanceRecord(inst.sopInstanceUid, inst.parsed ?? parseDicom(inst.bytes));
  } catch {
    return undefined; // no pixels, or frames that cannot be cut: left to the renderer's per-instance fallback
  }
}

/**
 * A series (only the instances the KOS references) as a record stream. Resolves once the PACS has answered
 * (so HTTP errors are reported as such); the body then streams as the instances arrive, pulled by the reader
 * (back-pressure reaches the PACS connection).
 */
export async function seriesRecordStream(client: DicomwebClient, target: SeriesTarget, only: Set<string>, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
  const it = client.retrieveSeries(target, { only, signal, store: false })[Symbol.asyncIterator]();
  // The first instance (or the error) before answering.
  const first = await it.next();
  let pending: IteratorResult<RetrievedInstance> | undefined = first;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        for (;;) {
          const r = pending ?? (await it.next());
          pending = undefined;
          if (r.done) {
            controller.close();
            return;
          }
          const record = toRecord(r.value);
          if (!record) continue;
          for (const chunk of record) controller.enqueue(chunk);
          return;
        }
      } catch (err) {
        controller.error(err);
      }
    },
    cancel() {
      void it.return?.(undefined);
    },
    // Read ahead of the renderer (up to a few dozen frames): the PACS keeps sending while the renderer is busy.
  }, new ByteLengthQueuingStrategy({ highWaterMark: 16 << 20 }));
}

/** One instance as a record (cache-aware). */
export async function instanceRecordBody(client: DicomwebClient, target: SeriesTarget, sop: string, signal: AbortSignal): Promise<Uint8Array> {
  const inst = await client.retrieveInstance(target, sop, signal);
  const record = toRecord(inst);
  if (!record) throw new AppError('IMAGING_NO_PIXEL_DATA', 'Cette image ne contient pas de pixels exploitables.', `instance ${sop}`);
  return Buffer.concat(record);
}
