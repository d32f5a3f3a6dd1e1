import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { streamingGet } from '../../../src/main/imaging/http-get';

let server: http.Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

function serve(handler: http.RequestListener): Promise<string> {
  server = http.createServer(handler);
  return new Promise((r) => server!.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server!.address() as AddressInfo).port}/`)));
}

const signal = () => new AbortController().signal;

describe('streamingGet body', () => {
  it('yields the bytes in order, each chunk as the socket delivered it (no concatenation of what is buffered)', async () => {
    const pieces = Array.from({ length: 40 }, (_, i) => Buffer.alloc(16 * 1024 + i, i));
    const url = await serve(async (_req, res) => {
      for (const p of pieces) if (!res.write(p)) await new Promise((r) => res.once('drain', r));
      res.end();
    });
    const r = await streamingGet(url, { headers: {}, signal: signal() });
    const got: Buffer[] = [];
    for await (const c of r.body) {
      got.push(Buffer.from(c));
      await new Promise((w) => setTimeout(w, 2)); // a slow consumer: chunks pile up meanwhile
    }
    expect(Buffer.concat(got).equals(Buffer.concat(pieces))).toBe(true);
    // Each HTTP chunk reaches the body as its own buffer (or in pieces, when split across socket reads); Readable's
    // own iterator handed over several at once, concatenated, after each wait.
    expect(Math.max(...got.map((c) => c.length))).toBeLessThanOrEqual(pieces.at(-1)!.length);
  });

  it('pauses the socket while the consumer lags (back-pressure reaches the server)', async () => {
    let written = 0;
    let blocked = false;
    const url = await serve(async (_req, res) => {
      const chunk = Buffer.alloc(256 * 1024, 7);
      while (written < 256 << 20 && res.writable) {
        written += chunk.length;
        if (!res.write(chunk)) {
          blocked = true;
          await new Promise((r) => res.once('drain', r));
        }
      }
      res.end();
    });
    const r = await streamingGet(url, { headers: {}, signal: signal() });
    const it = r.body[Symbol.asyncIterator]();
    await it.next(); // one chunk, then nothing read for a while
    await new Promise((w) => setTimeout(w, 400));
    expect(blocked).toBe(true);
    expect(written).toBeLessThan(48 << 20); // 4 MiB read ahead + socket buffers, far from the 256 MiB sent
    await it.return!(); // leaving early destroys the response
  });

  it('fails when the connection is cut before the end of the body', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': String(1 << 20) });
      res.write(Buffer.alloc(1000));
      setTimeout(() => res.socket?.destroy(), 50);
    });
    const r = await streamingGet(url, { headers: {}, signal: signal() });
    let n = 0;
    await expect(
      (async () => {
        for await (const c of r.body) n += c.length;
      })(),
    ).rejects.toThrow();
    expect(n).toBe(1000);
  });

  it('fails when the request is aborted mid-body', async () => {
    const url = await serve((_req, res) => {
      res.write(Buffer.alloc(1000));
    });
    const ctrl = new AbortController();
    const r = await streamingGet(url, { headers: {}, signal: ctrl.signal });
    const it = r.body[Symbol.asyncIterator]();
    await it.next();
    const next = it.next();
    ctrl.abort();
    await expect(next).rejects.toThrow();
  });
});
