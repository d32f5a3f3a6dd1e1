/**
 * Entry of the sandbox PACS proxy process: `pacs-proxy-main.ts <config.json>` where the JSON holds
 * `{ port, upstream, introspectionUrl?, staticTokens?, requireKosHeader? }` (a file, so that no token is
 * visible in the process list).
 */
import fs from 'node:fs';
import { createPacsProxy, type PacsProxyOptions } from './pacs-proxy';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: pacs-proxy-main <config.json>\n');
  process.exit(2);
}
const config = JSON.parse(fs.readFileSync(file, 'utf8')) as PacsProxyOptions & { port: number; host?: string };
const server = createPacsProxy(config);
server.listen(config.port, config.host ?? '127.0.0.1', () => {
  process.stdout.write(`pacs proxy on ${config.host ?? '127.0.0.1'}:${config.port} -> ${config.upstream}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
