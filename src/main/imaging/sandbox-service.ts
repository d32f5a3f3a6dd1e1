import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SandboxContext, SandboxService, StartedService } from '../sandbox/service';
import { loadSeedIntoOrthanc } from './pacs-loader';
import { ORTHANC_BIN, OrthancRest, writeOrthancConfig } from './orthanc';
import { pacsDir, patientFromProfile, prepareSandboxImaging } from './sandbox-seed';

/**
 * Profile section `pacs` written by the sandbox PACS (see docs/imaging-api.md).
 */
export interface PacsProfile {
  /** DICOMweb root behind the bearer-token proxy: what KOS Retrieve URLs point at. */
  dicomwebUrl: string;
  /** Orthanc's own REST root (loopback, no auth): for tests and seeding only, never for the app. */
  orthancUrl: string;
  /** A bearer token the proxy accepts without PSC (sandbox only); PSC tokens are checked by introspection. */
  accessToken: string;
  introspectionUrl?: string;
  patientIns: string;
  seedFile: string;
  studies: {
    key: string;
    title: string;
    studyInstanceUid: string;
    accessionNumber: string;
    studyDate: string;
    modalities: string[];
    kosFile: string;
    kosSopInstanceUid: string;
    seriesCount: number;
    instanceCount: number;
  }[];
  /** The generated 300-slice CT, one series per transfer syntax (benchmark). */
  benchmark?: { studyInstanceUid: string; kosSopInstanceUid: string; series: Record<string, string> };
}

export const pacsSandboxService: SandboxService = {
  id: 'pacs',
  title: 'PACS (Orthanc + DICOMweb)',
  requires: { debian: ['orthanc', 'orthanc-dicomweb', 'python3-pydicom'], binaries: ['Orthanc'] },
  async start(ctx: SandboxContext): Promise<StartedService> {
    const psc = ctx.profile['psc'] as { introspectionUrl?: string } | undefined;
    const seed = await prepareSandboxImaging({ sandboxDir: ctx.sandboxDir, patient: patientFromProfile(ctx.profile), onProgress: ctx.log });

    const orthancDir = path.join(pacsDir(ctx.sandboxDir), 'orthanc');
    const orthancPort = await ctx.freePort();
    const config = writeOrthancConfig({ dir: orthancDir, httpPort: orthancPort });
    const orthancPid = ctx.spawn('orthanc', ORTHANC_BIN, [config], { cwd: orthancDir });
    await ctx.waitForPort(orthancPort, orthancPid, 30_000);
    const orthancUrl = `http://127.0.0.1:${orthancPort}`;
    const rest = new OrthancRest(orthancUrl);
    const loaded = await loadSeedIntoOrthanc(rest, seed, path.join(orthancDir, 'storage'), ctx.log);
    ctx.log(loaded.skipped ? 'PACS : images déjà chargées.' : `PACS : ${loaded.uploaded} images chargées.`);

    const accessToken = crypto.randomBytes(24).toString('base64url');
    const proxyConfig = path.join(ctx.runDir, 'pacs-proxy.json');
    fs.writeFileSync(
      proxyConfig,
      JSON.stringify({
        port: seed.proxyPort,
        upstream: orthancUrl,
        staticTokens: [accessToken],
        requireKosHeader: true,
        ...(psc?.introspectionUrl ? { introspectionUrl: psc.introspectionUrl } : {}),
      }),
      { mode: 0o600 },
    );
    const proxyPid = ctx.spawnNode('pacs-proxy', path.join(ctx.appRoot, 'src/main/imaging/pacs-proxy-main.ts'), [proxyConfig]);
    await ctx.waitForPort(seed.proxyPort, proxyPid, 20_000);

    const ct = seed.studies.find((s) => s.key === 'ct-phantom');
    const section: PacsProfile = {
      dicomwebUrl: seed.dicomwebUrl,
      orthancUrl,
      accessToken,
      ...(psc?.introspectionUrl ? { introspectionUrl: psc.introspectionUrl } : {}),
      patientIns: seed.patient.ins,
      seedFile: path.join(pacsDir(ctx.sandboxDir), 'seed.json'),
      studies: seed.studies.map((s) => ({
        key: s.key,
        title: s.title,
        studyInstanceUid: s.studyInstanceUid,
        accessionNumber: s.accessionNumber,
        studyDate: s.studyDate,
        modalities: s.modalities,
        kosFile: s.kosFile,
        kosSopInstanceUid: s.kosSopInstanceUid,
        seriesCount: s.series.length,
        instanceCount: s.instanceCount,
      })),
      ...(ct
        ? {
            benchmark: {
              studyInstanceUid: ct.studyInstanceUid,
              kosSopInstanceUid: ct.kosSopInstanceUid,
              series: Object.fromEntries(ct.series.map((s) => [s.transferSyntaxUid, s.seriesInstanceUid])),
            },
          }
        : {}),
    };
    ctx.profile['pacs'] = section;
    return { url: seed.dicomwebUrl, ports: { dicomweb: seed.proxyPort, orthanc: orthancPort } };
  },
};
