/**
 * A TCP relay that behaves like a real network link between a client and a server on this machine: a bandwidth
 * (bytes per second, each direction) and a one-way delay. Benchmarks put it in front of a loopback server to
 * report, beside the loopback figure, what a user on a real link would see. TLS passes through it untouched
 * (STARTTLS included): it relays bytes, it never reads them.
 *
 * Each direction releases a chunk at max(its arrival + delay, the previous release + its size / bandwidth): the
 * serialisation of a link of that bandwidth, then its propagation. The reading side is paused while more than
 * a few hundred milliseconds of the link's bytes wait, as a socket buffer of that size would (TCP back-pressure).
 */
import net from 'node:net';

export interface LinkOptions {
  /** The server the relay forwards to. */
  host: string;
  port: number;
  /** Bandwidth of each direction, in bits per second. */
  bitsPerSecond: number;
  /** One-way delay, in milliseconds (the round-trip time is twice this). */
  delayMs: number;
}

export interface Link {
  port: number;
  close(): Promise<void>;
}

/** How much a direction may hold, in time of its bandwidth, before it stops reading (its socket buffer). */
const BUFFER_MS = 250;
const TICK_MS = 4;

function pace(from: net.Socket, to: net.Socket, opts: LinkOptions): void {
  const bytesPerMs = opts.bitsPerSecond / 8 / 1000;
  const limit = Math.max(64 * 1024, bytesPerMs * BUFFER_MS);
  const queue: { at: number; chunk: Buffer }[] = [];
  let held = 0;
  let lastRelease = 0;
  let timer: NodeJS.Timeout | undefined;
  let ended = false;
  const pump = () => {
    timer = undefined;
    const now = performance.now();
    // Released by ticks of a few milliseconds (a timer per chunk would cost the relay more CPU than the bytes).
    while (queue.length && queue[0]!.at <= now + TICK_MS / 2) {
      const { chunk } = queue.shift()!;
      held -= chunk.length;
      if (!to.destroyed) to.write(chunk);
    }
    if (held <= limit && from.isPaused()) from.resume();
    if (queue.length) timer = setTimeout(pump, Math.max(TICK_MS, queue[0]!.at - now));
    else if (ended && !to.destroyed) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    const now = performance.now();
    lastRelease = Math.max(now + opts.delayMs, lastRelease + chunk.length / bytesPerMs);
    queue.push({ at: lastRelease, chunk });
    held += chunk.length;
    if (held > limit) from.pause();
    timer ??= setTimeout(pump, Math.max(0, lastRelease - now - TICK_MS / 2));
  });
  from.on('end', () => {
    ended = true;
    if (!queue.length && !timer && !to.destroyed) to.end();
  });
}

export function startLink(opts: LinkOptions): Promise<Link> {
  const sockets = new Set<net.Socket>();
  // Half-open sockets: an end travels through the link like the bytes before it (after them), not at once.
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ port: opts.port, host: opts.host, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    pace(client, upstream, opts);
    pace(upstream, client, opts);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
