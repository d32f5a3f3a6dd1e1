/**
 * Worker thread entry of `MailReadPool`: reads received messages (`readMail`) off the main thread. Input and
 * output cross as structured clones; byte arrays are transferred, not copied.
 */
import { parentPort } from 'node:worker_threads';
import { parseCda } from '../documents/cda-parse';
import { readXdm } from '../documents/xdm-read';
import { packReadMail, readMail, type MailSource, type ReadDocumentsPort } from './message-read';

// Only the reading half of the documents capability: a smaller module graph, a faster worker start.
const docs = { readXdm, parseCda } as unknown as ReadDocumentsPort;

interface Job {
  id: number;
  uid: number;
  size: number;
  raw?: Uint8Array;
  headersOnly?: Uint8Array;
}

const asBuffer = (u?: Uint8Array) => (u ? Buffer.from(u.buffer, u.byteOffset, u.byteLength) : undefined);
const port = parentPort!;
port.on('message', (job: Job) => {
  const src: MailSource = { uid: job.uid, size: job.size, raw: asBuffer(job.raw), headersOnly: asBuffer(job.headersOnly) };
  readMail(src, docs).then(
    (read) => {
      const transfer: ArrayBuffer[] = [];
      port.postMessage({ id: job.id, ok: true, read: packReadMail(read, transfer) }, transfer);
    },
    (err: unknown) => port.postMessage({ id: job.id, ok: false, error: { message: (err as Error)?.message ?? String(err), code: (err as { code?: string })?.code } }),
  );
});
