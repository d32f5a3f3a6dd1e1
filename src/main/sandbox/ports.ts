import net from 'node:net';

export const SANDBOX_HOST = '127.0.0.1';

/** A free TCP port on the loopback interface, chosen by the OS (never hard-coded: the machine is shared). */
export function freePort(host = SANDBOX_HOST): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves when something accepts TCP connections on host:port; rejects after the timeout. */
export async function waitForPort(port: number, opts: { host?: string; timeoutMs?: number; isAlive?: () => boolean } = {}): Promise<void> {
  const host = opts.host ?? SANDBOX_HOST;
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect({ host, port });
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
      sock.setTimeout(1000, () => {
        sock.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (opts.isAlive && !opts.isAlive()) throw new Error(`the process died before listening on ${host}:${port}`);
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${opts.timeoutMs ?? 15_000} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
