/**
 * Entry of the sandbox FHIR annuaire process: `directory-fhir-server-main.ts <config.json>` where the JSON holds
 * `{ port, host?, apiKey, certFile, keyFile, dataFile, basePath? }` (a file, so that the API key is not visible
 * in the process list).
 */
import fs from 'node:fs';
import { createFhirDirectoryServer, type FhirDirectoryData } from './directory-fhir-server';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: directory-fhir-server-main <config.json>\n');
  process.exit(2);
}
const config = JSON.parse(fs.readFileSync(file, 'utf8')) as { port: number; host?: string; apiKey: string; certFile: string; keyFile: string; dataFile: string; basePath?: string };
const data = JSON.parse(fs.readFileSync(config.dataFile, 'utf8')) as FhirDirectoryData;
const server = createFhirDirectoryServer({
  apiKey: config.apiKey,
  data,
  tls: { cert: fs.readFileSync(config.certFile), key: fs.readFileSync(config.keyFile) },
  ...(config.basePath ? { basePath: config.basePath } : {}),
});
server.listen(config.port, config.host ?? '127.0.0.1', () => {
  process.stdout.write(`FHIR annuaire on https://${config.host ?? '127.0.0.1'}:${config.port}${config.basePath ?? '/fhir/v2'} (${data.practitioners.length} practitioners)\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
