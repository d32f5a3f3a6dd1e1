import fs from 'node:fs';
import path from 'node:path';
import type { Core } from '../../../src/main/core/app-core';
import { DmpClient, type DmpClientConfig } from '../../../src/main/dmp/client';
import { createTestPki, type TestPki } from '../../../src/main/dmp/server/test-pki';
import { seed } from '../../../src/main/dmp/server/seed';
import { DmpTestServer } from '../../../src/main/dmp/server/server';
import { pemSigning } from '../../../src/main/dmp/signing';
import { WIRE_PROFILE } from '../../../src/main/dmp/wire-profile';
import { uuidOid } from '../../../src/main/dmp/xml-util';
import { createCore } from '../../../src/main/handlers';
import { sandboxDir } from '../../../src/main/store/paths';
import { sharedPath } from '../../support/shared';

export const PS_ID = '810001234567';
export const SCHEMAS = sharedPath('schemas', 'ebrs30');

export interface Harness {
  pki: TestPki;
  server: DmpTestServer;
  dir: string;
  client(over?: Partial<DmpClientConfig> & { org?: 'org' | 'otherOrg'; nameId?: string; tlsCert?: string; tlsKey?: string }): DmpClient;
  stop(): Promise<void>;
}

const pem = (f: string): string => fs.readFileSync(f, 'utf8');

/** A DMP test server in-process on a free port (HTTPS + client certificates) with a fresh database. */
export async function startHarness(dir: string): Promise<Harness> {
  const pki = createTestPki(path.join(dir, 'pki'));
  const server = new DmpTestServer({
    port: 0,
    dbFile: path.join(dir, 'dmp.sqlite'),
    schemaDir: SCHEMAS,
    tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.caCert },
    log: (l) => fs.appendFileSync(path.join(dir, 'server.log'), l + '\n'),
  });
  seed(server.store, {
    practitionerId: PS_ID,
    crImg: fs.readFileSync(sharedPath('fixtures', 'cda-ans', 'IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml')),
    kos: fs.readFileSync(sharedPath('fixtures', 'kos', 'nist-IDS-DEPT001-a.dcm')),
    repositoryUniqueId: WIRE_PROFILE.testRepositoryUniqueId,
  });
  const url = await server.start();
  return {
    pki,
    server,
    dir,
    client(over = {}) {
      const org = pki[over.org ?? 'org'];
      const cfg: DmpClientConfig = {
        baseUrl: url,
        tls: { cert: pem(over.tlsCert ?? org.authCert), key: pem(over.tlsKey ?? org.authKey), ca: pem(pki.caCert) },
        signing: pemSigning({ keyPem: pem(org.signKey), certPem: pem(org.signCert) }),
        vihf: {
          mode: 'INDIRECTE_RENFORCEE',
          nameId: over.nameId ?? PS_ID,
          subjectName: 'Dr Test SANDBOX',
          roles: [{ code: '10', codeSystem: '1.2.250.1.71.1.2.7', displayName: 'Médecin' }, { code: 'SM26', codeSystem: '1.2.250.1.71.4.2.5', displayName: 'Qualifié en médecine générale' }],
          sector: 'SA07',
          structureId: org.structureId,
          lps: { id: 'LPS-COMPAGNON', name: 'Compagnon LPS', version: '0.1.0', homologation: 'HOMOLOGATION-TEST' },
        },
        sourceId: '1.2.250.1.999.42',
        logDir: path.join(dir, 'logs'),
        schemaDir: SCHEMAS,
        requestTimeoutMs: 10_000,
        ...over,
      };
      return new DmpClient(cfg);
    },
    async stop() {
      await server.stop();
    },
  };
}

const FIXTURE = (): string => fs.readFileSync(sharedPath('fixtures', 'cda-ans', 'DOC_NON_STRUCTURE_CDA-R2-N1.xml'), 'utf8');

/** A CDA for this patient, authored by this structure, with a fresh id (optionally replacing another). */
export function makeCda(opts: { ins: string; structureId: string; replaces?: string; id?: string }): { xml: Buffer; uniqueId: string } {
  const id = opts.id ?? uuidOid();
  let xml = FIXTURE()
    .replace('<id root="1.3.6.1.4.1.19376.1.2.20.12345.1.1"/>', `<id root="${id}"/>`)
    .replace(/extension="279035121518989"/g, `extension="${opts.ins}"`)
    .replace(/extension="1120459876"/g, `extension="${opts.structureId}"`);
  if (opts.replaces) {
    xml = xml.replace(/<componentOf>/, `<relatedDocument typeCode="RPLC"><parentDocument><id root="${opts.replaces}"/></parentDocument></relatedDocument><componentOf>`);
  }
  return { xml: Buffer.from(xml, 'utf8'), uniqueId: id };
}

/**
 * A Core on a fresh data dir whose (running) sandbox profile points at the harness's server, the way the DMP
 * sandbox service writes it (`dmp` section with `adapterPki`): what the dmp.* handlers read.
 */
export function coreOnSandboxProfile(h: Harness, dataDir: string, opts: { practitioner?: { nameId: string; name: string; specialtyCode?: string } } = {}): Core {
  const sdir = sandboxDir(dataDir);
  fs.mkdirSync(sdir, { recursive: true });
  const o = h.pki.org;
  fs.writeFileSync(
    path.join(sdir, 'profile.json'),
    JSON.stringify({
      version: 1, running: true, runDir: path.join(sdir, 'run'),
      services: { dmp: { id: 'dmp', title: 'DMP', running: true, ports: {}, pids: [process.pid] } },
      dmp: {
        url: h.server.url, mode: 'INDIRECTE_RENFORCEE', insOid: '1.2.250.1.213.1.4.10', sourceId: '1.2.3', sector: 'SA07',
        practitioner: opts.practitioner ?? { nameId: PS_ID, name: 'Claire DURAND' }, lps: { id: 'L', name: 'N', version: 'V', homologation: 'H' }, schemaDir: SCHEMAS,
        adapterPki: { caCert: h.pki.caCert, authCert: o.authCert, authKey: o.authKey, signCert: o.signCert, signKey: o.signKey, structureId: o.structureId, name: o.name },
      },
    }),
  );
  return createCore({ dataDir, runtime: 'node' });
}
