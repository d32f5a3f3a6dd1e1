/**
 * Entry point of the DMP test server as its own process (sandbox service, `lps dmp-server`):
 *   node --import tsx src/main/dmp/server/main.ts --port N --db FILE --cert C --key K --ca CA --schemas DIR
 *        [--practitioner 8…] [--cr-img CDA] [--kos DCM] [--imaging STUDIES.json] [--host 127.0.0.1]
 * Stops on SIGTERM/SIGINT.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WIRE_PROFILE } from '../wire-profile';
import { readIfExists, seed, type ImagingStudySeed } from './seed';
import { DmpTestServer } from './server';

export interface ServerArgs {
  port: number;
  host: string;
  db: string;
  cert: string;
  key: string;
  ca: string;
  schemas: string;
  practitioner: string;
  crImg?: string;
  kos?: string;
  imaging?: string;
}

export function parseArgs(argv: string[]): ServerArgs {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const need = (name: string): string => {
    const v = get(name);
    if (!v) throw new Error(`--${name} is required`);
    return v;
  };
  return {
    port: Number(get('port') ?? 0),
    host: get('host') ?? '127.0.0.1',
    db: need('db'),
    cert: need('cert'),
    key: need('key'),
    ca: need('ca'),
    schemas: need('schemas'),
    practitioner: get('practitioner') ?? '810001234567',
    crImg: get('cr-img'),
    kos: get('kos'),
    imaging: get('imaging'),
  };
}

export async function runServer(args: ServerArgs, log: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<DmpTestServer> {
  fs.mkdirSync(path.dirname(args.db), { recursive: true, mode: 0o700 });
  const server = new DmpTestServer({
    port: args.port,
    host: args.host,
    dbFile: args.db,
    schemaDir: args.schemas,
    tls: { cert: args.cert, key: args.key, ca: args.ca },
    log,
  });
  seed(server.store, {
    practitionerId: args.practitioner,
    crImg: readIfExists(args.crImg),
    kos: readIfExists(args.kos),
    repositoryUniqueId: WIRE_PROFILE.testRepositoryUniqueId,
    ...(args.imaging && fs.existsSync(args.imaging) ? { imaging: JSON.parse(fs.readFileSync(args.imaging, 'utf8')) as ImagingStudySeed[] } : {}),
  });
  const url = await server.start();
  log(`DMP test server listening on ${url}`);
  return server;
}

if (require.main === module) {
  runServer(parseArgs(process.argv.slice(2)))
    .then((server) => {
      const stop = (): void => {
        void server.stop().finally(() => process.exit(0));
      };
      process.on('SIGTERM', stop);
      process.on('SIGINT', stop);
    })
    .catch((err: unknown) => {
      process.stderr.write(`DMP test server failed: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    });
}
