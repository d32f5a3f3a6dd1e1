import fs from 'node:fs';
import path from 'node:path';
import type { SandboxContext, SandboxService, StartedService } from '../sandbox/service';
import { sandboxImagingSeed } from '../imaging/sandbox-seed';
import { productInfo } from '../core/version';
import { OID } from './protocol';
import { SEED_PATIENTS } from './server/seed';
import { BASE_PATH } from './server/server';
import { createTestPki } from './server/test-pki';
import type { DmpProfileSection } from './config';

/**
 * The DMP test server as a sandbox service: a detached Node process (HTTPS, client certificates checked
 * against the sandbox CA), SQLite under `<sandboxDir>/dmp/`, seeded with the test patients (one per TD0.2
 * state) and the sandbox imaging studies (CR d'imagerie + KOS). Writes the profile sections `dmp` and
 * `patients` ({ins, insOid, name, dmp, authorization}).
 */

const SHARED_SCHEMAS = (appRoot: string): string => path.resolve(appRoot, '..', 'shared', 'schemas', 'ebrs30');

interface PkiSection {
  caCert: string;
  caBundle?: string;
  serverCert: string;
  serverKey: string;
  org: { structureId: string; name: string };
}

interface Holder {
  nationalId?: string;
  lastName?: string;
  firstName?: string;
  professionCode?: string;
  profession?: string;
}

export const dmpSandboxService: SandboxService = {
  id: 'dmp',
  title: 'DMP de test (TD0.2, TD0.3, TD2.1, TD3.x)',
  async start(ctx: SandboxContext): Promise<StartedService> {
    const profile = ctx.profile as Record<string, unknown>;
    const dir = path.join(ctx.sandboxDir, 'dmp');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const schemas = process.env['LPS_SCHEMAS_DIR'] ?? SHARED_SCHEMAS(ctx.appRoot);
    if (!fs.existsSync(path.join(schemas, 'IHE', 'IHEXDSB.xsd'))) {
      throw new Error(`the ebRS 3.0 / XDS.b schemas are missing (${schemas}); set LPS_SCHEMAS_DIR`);
    }

    // Certificates: the identity capability's sandbox PKI, or our own test PKI when it is absent.
    const pki = profile['pki'] as PkiSection | undefined;
    let tls: { cert: string; key: string; ca: string };
    let adapterPki: DmpProfileSection['adapterPki'];
    if (pki?.serverCert && pki.caCert) {
      tls = { cert: pki.serverCert, key: pki.serverKey, ca: pki.caBundle ?? pki.caCert };
    } else {
      ctx.log('DMP : pas de PKI du bac à sable (identité), création d’une PKI de test propre au DMP.');
      const own = createTestPki(path.join(dir, 'pki'));
      tls = { cert: own.serverCert, key: own.serverKey, ca: own.caCert };
      adapterPki = { caCert: own.caCert, authCert: own.org.authCert, authKey: own.org.authKey, signCert: own.org.signCert, signKey: own.org.signKey, structureId: own.org.structureId, name: own.org.name };
    }

    // The practitioner of the VIHF: the test CPS holder (identity), else a default one.
    const card = profile['card'] as { holder?: Holder } | undefined;
    const psc = profile['psc'] as { practitioner?: { nationalId?: string; lastName?: string; firstName?: string; professionCode?: string } } | undefined;
    const h: Holder = card?.holder ?? psc?.practitioner ?? {};
    const practitioner = {
      nameId: h.nationalId ?? '810001234567',
      name: [h.firstName ?? 'Claire', h.lastName ?? 'MEDECIN'].join(' '),
      professionCode: h.professionCode ?? '10',
      professionLabel: h.profession ?? 'Médecin',
      specialtyCode: 'SM26',
    };

    // Imaging studies of the sandbox PACS (KOS pointing at it), when the imaging capability provides them.
    let imagingFile: string | undefined;
    try {
      const seed = await sandboxImagingSeed({ sandboxDir: ctx.sandboxDir, profile: withSeedPatients(profile), log: ctx.log });
      imagingFile = path.join(ctx.runDir, 'dmp-imaging.json');
      fs.writeFileSync(
        imagingFile,
        JSON.stringify(
          seed.studies.map((s) => ({
            title: s.title, accessionNumber: s.accessionNumber, accessionIssuerOid: s.accessionIssuerOid, studyDate: s.studyDate,
            studyInstanceUid: s.studyInstanceUid, modalities: s.modalities, region: s.region, kosFile: s.kosFile,
          })),
        ),
      );
    } catch (err) {
      ctx.log(`DMP : études d’imagerie du bac à sable indisponibles (${(err as Error).message}) ; KOS d’exemple utilisé.`);
    }
    const fixtures = path.resolve(ctx.appRoot, '..', 'shared', 'fixtures');
    const port = await ctx.freePort();
    const args = [
      '--port', String(port), '--host', ctx.host, '--db', path.join(dir, 'dmp.sqlite'),
      '--cert', tls.cert, '--key', tls.key, '--ca', tls.ca, '--schemas', schemas, '--practitioner', practitioner.nameId,
      '--cr-img', path.join(fixtures, 'cda-ans', 'IMG_CR_IMG_2024.01_CDA-R2-Niveau-1.xml'),
      '--kos', path.join(fixtures, 'kos', 'nist-IDS-DEPT001-a.dcm'),
      ...(imagingFile ? ['--imaging', imagingFile] : []),
    ];
    const pid = ctx.spawnNode('dmp', path.join(ctx.appRoot, 'src', 'main', 'dmp', 'server', 'main.ts'), args);
    await ctx.waitForPort(port, pid, 30_000);
    const url = `https://${ctx.host}:${port}${BASE_PATH}`;

    const info = productInfo();
    const section: DmpProfileSection = {
      url,
      mode: 'INDIRECTE_RENFORCEE',
      insOid: OID.insTestNir,
      sourceId: '1.2.250.1.999.213.1.1',
      sector: 'SA07',
      practitioner,
      lps: { id: 'LPS-COMPAGNON', name: info.name, version: info.version, homologation: 'HOMOLOGATION-BAC-A-SABLE' },
      schemaDir: schemas,
      ...(adapterPki ? { adapterPki } : {}),
    };
    profile['dmp'] = { ...section, logFile: path.join(ctx.runDir, 'logs', 'dmp.log'), database: path.join(dir, 'dmp.sqlite') };
    profile['patients'] = withSeedPatients(profile)['patients'];
    return { url, ports: { https: port } };
  },
};

/** Merges the DMP test patients into the profile's `patients` list (other services may have added some). */
function withSeedPatients(profile: Record<string, unknown>): Record<string, unknown> {
  const list = (Array.isArray(profile['patients']) ? profile['patients'] : []) as Record<string, unknown>[];
  const out = [...list];
  for (const p of SEED_PATIENTS) {
    const facts = {
      ins: p.ins, insOid: p.insOid, name: `${p.family} ${p.given}`, dmp: p.dmp, authorization: p.authorization,
      family: p.family, given: p.given, birthDate: p.birthDate, gender: p.gender,
    };
    const i = out.findIndex((x) => x['ins'] === p.ins);
    if (i >= 0) out[i] = { ...facts, ...out[i], dmp: p.dmp, authorization: p.authorization, name: out[i]!['name'] ?? facts.name };
    else out.push(facts);
  }
  return { ...profile, patients: out };
}
