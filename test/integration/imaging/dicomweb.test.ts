import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/main/core/errors';
import { T } from '../../../src/main/imaging/dicom/constants';
import { parseDicom } from '../../../src/main/imaging/dicom/parser';
import { DicomwebClient, kosTargets } from '../../../src/main/imaging/dicomweb-client';
import { DiskCache } from '../../../src/main/imaging/disk-cache';
import { fetchKosInstances } from '../../../src/main/imaging/fetch-kos';
import { parseKos } from '../../../src/main/imaging/kos';
import { writeKos } from '../../../src/main/imaging/kos-writer';
import { ORTHANC_BIN, OrthancRest, writeOrthancConfig } from '../../../src/main/imaging/orthanc';
import { loadSeedIntoOrthanc } from '../../../src/main/imaging/pacs-loader';
import { createPacsProxy } from '../../../src/main/imaging/pacs-proxy';
import { pacsDir, prepareSandboxImaging, type SandboxImagingSeed } from '../../../src/main/imaging/sandbox-seed';
import { FRAME_STREAM_TYPE, readRecords } from '../../../src/main/imaging/frame-stream';
import { SeriesBulkLoader } from '../../../src/main/imaging/series-bulk';
import { createImagingStreamHandler, ImagingSessions, warmFirstImage } from '../../../src/main/imaging/stream-handler';
import { stopPid } from '../../../src/main/sandbox/processes';
import { freePort, waitForPort } from '../../../src/main/sandbox/ports';
import { tempDir } from '../../support/tmp';

const HAS_ORTHANC = fs.existsSync(ORTHANC_BIN);
const TOKEN = 'test-token-abcdef0123456789';
const PSC_TOKEN = 'psc-token-from-introspection';

async function listen(server: http.Server, port = 0): Promise<number> {
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<AppError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(code);
    return err as AppError;
  }
  throw new Error(`expected ${code}`);
}

describe.skipIf(!HAS_ORTHANC)('DICOMweb retrieval against a real Orthanc behind the sandbox proxy', () => {
  const tmp = tempDir('lps-imaging-');
  let orthancPid = 0;
  const servers: http.Server[] = [];
  let seed: SandboxImagingSeed;
  let proxyUrl: string;
  let slowUrl: string;
  const client = (token: string | undefined, extra: Partial<ConstructorParameters<typeof DicomwebClient>[0]> = {}) =>
    new DicomwebClient({ getToken: () => token, timeoutMs: 5000, ...extra });
  const kosOf = (key: string) => parseKos(fs.readFileSync(seed.studies.find((s) => s.key === key)!.kosFile));

  beforeAll(async () => {
    seed = await prepareSandboxImaging({ sandboxDir: tmp.dir, ctSlices: 4 });
    const dir = path.join(pacsDir(tmp.dir), 'orthanc');
    const port = await freePort();
    const config = writeOrthancConfig({ dir, httpPort: port });
    const child = spawn(ORTHANC_BIN, [config], { detached: true, stdio: 'ignore', cwd: dir });
    orthancPid = child.pid!;
    child.unref();
    await waitForPort(port, { timeoutMs: 30_000 });
    const orthancUrl = `http://127.0.0.1:${port}`;
    await loadSeedIntoOrthanc(new OrthancRest(orthancUrl), seed, path.join(dir, 'storage'));

    // A stand-in for PSC introspection (RFC 7662).
    const introspection = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const token = new URLSearchParams(body).get('token');
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ active: token === PSC_TOKEN }));
      });
    });
    servers.push(introspection);
    const introspectionPort = await listen(introspection);

    const proxy = createPacsProxy({
      upstream: orthancUrl,
      staticTokens: [TOKEN],
      requireKosHeader: true,
      introspectionUrl: `http://127.0.0.1:${introspectionPort}/introspect`,
    });
    servers.push(proxy);
    // The KOS Retrieve URLs name the reserved proxy port.
    await listen(proxy, seed.proxyPort);
    proxyUrl = seed.dicomwebUrl;
    const slow = createPacsProxy({ upstream: orthancUrl, staticTokens: [TOKEN], delayMs: 1500 });
    servers.push(slow);
    slowUrl = `http://127.0.0.1:${await listen(slow)}/dicom-web`;
  });

  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    if (orthancPid) await stopPid(orthancPid);
    tmp.cleanup();
  });

  it('downloads every instance a KOS references as Part 10 files, pixel data intact, across transfer syntaxes', async () => {
    const kos = kosOf('mr-brain');
    const progress: number[] = [];
    const out = path.join(tmp.dir, 'out-mr');
    const r = await fetchKosInstances(client(TOKEN), kos, out, { onProgress: (p) => progress.push(p.done) });
    expect(r.missing).toEqual([]);
    expect(r.files).toHaveLength(5);
    expect(progress.at(-1)).toBe(5);
    const study = seed.studies.find((s) => s.key === 'mr-brain')!;
    for (const f of r.files) {
      const bytes = fs.readFileSync(f.file);
      expect(bytes.toString('latin1', 128, 132)).toBe('DICM');
      const got = parseDicom(bytes);
      const source = study.series.flatMap((s) => s.instances).find((i) => i.sopInstanceUid === f.sopInstanceUid)!;
      const want = parseDicom(fs.readFileSync(source.file));
      expect(got.transferSyntaxUid).toBe(want.transferSyntaxUid);
      expect(got.dataset.string(T.PatientId)).toBe('279035121518989');
      const px = (p: ReturnType<typeof parseDicom>) => {
        const el = p.dataset.elements.get(T.PixelData)!;
        return el.fragments ? Buffer.concat(el.fragments.slice(1).map((fr) => p.dataset.bytes.subarray(fr.offset, fr.offset + fr.length))) : p.dataset.raw(T.PixelData)!;
      };
      expect(px(got).equals(px(want))).toBe(true);
    }
    // Resumable: a second run fetches nothing new.
    const again = await fetchKosInstances(client('wrong-token'), kos, out);
    expect(again.files).toHaveLength(5);
  });

  it('answers 401 → IMAGING_DICOMWEB_UNAUTHORIZED without a token or with a bad one, and accepts a PSC token by introspection', async () => {
    const kos = kosOf('ct-samples');
    const [t] = kosTargets(kos).targets;
    await expectCode(client(undefined).prefetchSeries(t!.target), 'IMAGING_DICOMWEB_UNAUTHORIZED');
    const e = await expectCode(client('not-a-valid-token').prefetchSeries(t!.target), 'IMAGING_DICOMWEB_UNAUTHORIZED');
    expect(e.userMessage).toMatch(/Pro Santé Connect/);
    expect(e.detail ?? '').not.toContain('not-a-valid-token');
    expect(await client(PSC_TOKEN).prefetchSeries(t!.target)).toBe(1);
  });

  it('refuses a retrieval without the KOS-SOPInstanceUID header (400 → IMAGING_DICOMWEB_REJECTED)', async () => {
    const kos = kosOf('ct-samples');
    const url = kosTargets(kos).targets[0]!.target.seriesUrl;
    await expectCode(client(TOKEN).request(url, { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' }), 'IMAGING_DICOMWEB_REJECTED');
  });

  it('maps an unknown series to IMAGING_DICOMWEB_NOT_FOUND and reports instances the server lacks', async () => {
    const known = seed.studies.find((s) => s.key === 'us')!;
    const bogus = writeKos({
      patient: { id: seed.patient.ins },
      studies: [
        {
          studyInstanceUid: known.studyInstanceUid,
          series: [{ seriesInstanceUid: '1.2.3.4.5.6.7', retrieveUrl: `${proxyUrl}/studies/${known.studyInstanceUid}/series/1.2.3.4.5.6.7`, instances: [{ sopClassUid: '1.2.840.10008.5.1.4.1.1.6.1', sopInstanceUid: '1.2.3.4.5.6.7.8' }] }],
        },
      ],
    });
    const e = await expectCode(fetchKosInstances(client(TOKEN), parseKos(bogus.bytes), path.join(tmp.dir, 'out-404')), 'IMAGING_DICOMWEB_NOT_FOUND');
    expect(e.userMessage).toMatch(/introuvables/);

    const se = known.series[0]!;
    const partial = writeKos({
      patient: { id: seed.patient.ins },
      studies: [
        {
          studyInstanceUid: known.studyInstanceUid,
          series: [
            {
              seriesInstanceUid: se.seriesInstanceUid,
              retrieveUrl: `${proxyUrl}/studies/${known.studyInstanceUid}/series/${se.seriesInstanceUid}`,
              instances: [...se.instances.map((i) => ({ sopClassUid: i.sopClassUid, sopInstanceUid: i.sopInstanceUid })), { sopClassUid: se.instances[0]!.sopClassUid, sopInstanceUid: '1.2.3.999' }],
            },
          ],
        },
      ],
    });
    const r = await fetchKosInstances(client(TOKEN), parseKos(partial.bytes), path.join(tmp.dir, 'out-partial'));
    expect(r.files).toHaveLength(1);
    expect(r.missing).toEqual(['1.2.3.999']);
    // The big-endian US original was transcoded by Orthanc when loaded.
    expect(parseDicom(fs.readFileSync(r.files[0]!.file)).transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
  });

  it('times out with IMAGING_DICOMWEB_TIMEOUT when the server does not answer in time', async () => {
    const kos = kosOf('ct-samples');
    const t0 = Date.now();
    const e = await expectCode(
      fetchKosInstances(client(TOKEN, { timeoutMs: 300 }), kos, path.join(tmp.dir, 'out-slow'), { dicomwebRootOverride: slowUrl }),
      'IMAGING_DICOMWEB_TIMEOUT',
    );
    expect(Date.now() - t0).toBeLessThan(1400);
    expect(e.userMessage).toMatch(/délai dépassé/);
  });

  it('is unreachable-safe: a closed port gives IMAGING_DICOMWEB_UNREACHABLE', async () => {
    const port = await freePort();
    const kos = kosOf('ct-samples');
    await expectCode(fetchKosInstances(client(TOKEN), kos, path.join(tmp.dir, 'out-closed'), { dicomwebRootOverride: `http://127.0.0.1:${port}/dicom-web` }), 'IMAGING_DICOMWEB_UNREACHABLE');
  });

  it('cancels a series transfer when the caller aborts (IMAGING_CANCELLED)', async () => {
    const kos = kosOf('ct-phantom');
    const ctrl = new AbortController();
    const [t] = kosTargets(kos).targets;
    const it = client(TOKEN).retrieveSeries(t!.target, { signal: ctrl.signal });
    const first = await it.next();
    expect(first.done).toBe(false);
    ctrl.abort();
    await expectCode((async () => { for await (const _ of it) { /* drain */ } })(), 'IMAGING_CANCELLED');
  });

  it('serves a prefetched series from the encrypted disk cache without another request', async () => {
    const kos = kosOf('ct-phantom');
    const [t] = kosTargets(kos).targets;
    let calls = 0;
    const cache = new DiskCache(path.join(tmp.dir, 'cache'), 64 * 1024 * 1024);
    const c = client(TOKEN, { cache, fetch: (async (...a: Parameters<typeof fetch>) => { calls++; return fetch(...a); }) as typeof fetch });
    const only = new Set(t!.series.instances.map((i) => i.sopInstanceUid));
    expect(await c.prefetchSeries(t!.target, { only })).toBe(4);
    expect(calls).toBe(1);
    const got = [];
    for await (const inst of c.retrieveSeries(t!.target, { only })) got.push(inst);
    expect(calls).toBe(1);
    expect(got.every((g) => g.fromCache)).toBe(true);
    // Sealed on disk: no clear DICOM in the cache folder.
    for (const f of fs.readdirSync(cache.dir)) expect(fs.readFileSync(path.join(cache.dir, f)).includes(Buffer.from('279035121518989'))).toBe(false);
  });

  it('streams frames and metadata to the renderer through a KOS-bound handle, never exposing the token', async () => {
    const kos = kosOf('ct-phantom');
    const sessions = new ImagingSessions();
    const handler = createImagingStreamHandler({ sessions, client: client(TOKEN) });
    const { handle, baseUrl } = sessions.open(kos);
    const st = kos.studies[0]!;
    const se = st.series[1]!; // JPEG-LS
    const sop = se.instances[0]!.sopInstanceUid;
    const meta = await handler(new Request(`${baseUrl}/studies/${st.studyInstanceUid}/series/${se.seriesInstanceUid}/metadata`));
    expect(meta.status).toBe(200);
    const json = (await meta.json()) as unknown[];
    expect(json).toHaveLength(4);
    const frame = await handler(new Request(`${baseUrl}/studies/${st.studyInstanceUid}/series/${se.seriesInstanceUid}/instances/${sop}/frames/1`, { headers: { accept: 'multipart/related; type="application/octet-stream"; transfer-syntax=*' } }));
    expect(frame.status).toBe(200);
    expect(frame.headers.get('content-type')).toMatch(/transfer-syntax=1.2.840.10008.1.2.4.80/);
    const body = Buffer.from(await frame.arrayBuffer());
    expect(body.length).toBeGreaterThan(10_000);
    expect(body.includes(Buffer.from(TOKEN))).toBe(false);
    // Outside the KOS: forbidden; after close: gone.
    const other = seed.studies.find((s) => s.key === 'mr-brain')!;
    expect((await handler(new Request(`${baseUrl}/studies/${other.studyInstanceUid}/series/${other.series[0]!.seriesInstanceUid}/metadata`))).status).toBe(403);
    sessions.close(handle);
    expect((await handler(new Request(`${baseUrl}/studies/${st.studyInstanceUid}/series/${se.seriesInstanceUid}/metadata`))).status).toBe(410);
  });

  it('serves every frame of a series from one series retrieval, byte-identical to the PACS per-frame answers', async () => {
    const sessions = new ImagingSessions();
    const c = client(TOKEN);
    const handler = createImagingStreamHandler({ sessions, client: c });
    const bulk = new SeriesBulkLoader(c);
    let checked = 0;
    for (const key of ['ct-phantom', 'mr-brain']) {
      const kos = kosOf(key);
      const { handle, baseUrl } = sessions.open(kos);
      const session = sessions.get(handle)!;
      for (const st of kos.studies)
        for (const se of st.series) {
          const seriesUrl = session.series.get(`${st.studyInstanceUid}/${se.seriesInstanceUid}`);
          if (!seriesUrl) continue;
          const base = `${baseUrl}/studies/${st.studyInstanceUid}/series/${se.seriesInstanceUid}`;
          const frameReq = (sop: string) => new Request(`${base}/instances/${sop}/frames/1`, { headers: { accept: 'multipart/related; type=application/octet-stream; transfer-syntax=*' } });
          // Not prefetched: the normal path.
          expect(await bulk.tryServe(frameReq(se.instances[0]!.sopInstanceUid))).toBeUndefined();
          expect(bulk.start(handle, { seriesUrl, studyInstanceUid: st.studyInstanceUid, seriesInstanceUid: se.seriesInstanceUid, kosSopInstanceUid: kos.sopInstanceUid }, new Set(se.instances.map((i) => i.sopInstanceUid)), session.abort.signal).started).toBe(true);
          for (const inst of se.instances) {
            const fromBulk = await bulk.tryServe(frameReq(inst.sopInstanceUid));
            expect(fromBulk, `${key} ${inst.sopInstanceUid}`).toBeDefined();
            const type = fromBulk!.headers.get('content-type')!;
            const bytes = Buffer.from(await fromBulk!.arrayBuffer());
            const direct = await handler(frameReq(inst.sopInstanceUid));
            if (direct.status !== 200) continue; // Orthanc cannot serve some syntaxes per frame (big endian…)
            const body = Buffer.from(await direct.arrayBuffer());
            expect(type).toMatch(/^application\/octet-stream; transfer-syntax=[0-9.]+$/);
            expect(direct.headers.get('content-type')).toContain(type.split('transfer-syntax=')[1]!);
            expect(bytes.length).toBeGreaterThan(1000);
            // Orthanc's answer is one multipart part holding exactly these bytes (plus its MIME headers).
            expect(body.indexOf(bytes)).toBeGreaterThan(0);
            expect(body.length - bytes.length).toBeLessThan(1000);
            checked++;
          }
        }
      // Closing the session ends its retrievals: a frame asked afterwards takes the normal path.
      sessions.close(handle);
      expect(await bulk.tryServe(new Request(`${baseUrl}/studies/x/series/y/instances/z/frames/1`))).toBeUndefined();
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it('streams a series as instance records (metadata + frames) matching the PACS per-frame answers and metadata; one instance alone; only what the KOS references', async () => {
    const sessions = new ImagingSessions();
    const handler = createImagingStreamHandler({ sessions, client: client(TOKEN) });
    const ACCEPT = 'multipart/related; type=application/octet-stream; transfer-syntax=*';
    let checked = 0;
    for (const key of ['ct-phantom', 'mr-brain']) {
      const kos = kosOf(key);
      const { handle, baseUrl } = sessions.open(kos);
      for (const st of kos.studies)
        for (const se of st.series) {
          const base = `${baseUrl}/studies/${st.studyInstanceUid}/series/${se.seriesInstanceUid}`;
          const res = await handler(new Request(`${base}/lps-frames`));
          if (res.status === 403) continue; // no retrieve location in the KOS
          expect(res.status).toBe(200);
          expect(res.headers.get('content-type')).toBe(FRAME_STREAM_TYPE);
          const records = [...readRecords(Buffer.from(await res.arrayBuffer()))];
          // Every referenced instance, once.
          expect(records.map((r) => r.header.sop).sort()).toEqual(se.instances.map((i) => i.sopInstanceUid).sort());
          const metadata = (await (await handler(new Request(`${base}/metadata`))).json()) as Record<string, { Value?: unknown[] }>[];
          for (const r of records.filter((_, i) => i % 25 === 0 || records.length < 30)) {
            // The metadata built in main agrees with the PACS's own DICOM JSON on what the viewer reads.
            const pacs = metadata.find((m) => m['00080018']?.Value?.[0] === r.header.sop)!;
            for (const tag of ['00080018', '0020000E', '00200013', '00280010', '00280011', '00280100', '00280101', '00280103', '00280004', '00281050', '00281051', '00281052', '00281053', '00280030', '00200032', '00200037'])
              expect(r.header.metadata[tag]?.Value, `${key} ${tag}`).toEqual(pacs[tag]?.Value);
            expect(r.header.metadata['00020010']?.Value?.[0]).toBe(r.header.ts);
            // The frame is what WADO-RS …/frames/1 gives.
            const direct = await handler(new Request(`${base}/instances/${r.header.sop}/frames/1`, { headers: { accept: ACCEPT } }));
            if (direct.status !== 200) continue;
            const body = Buffer.from(await direct.arrayBuffer());
            expect(r.frames[0]!.length).toBeGreaterThan(1000);
            expect(body.indexOf(r.frames[0]!)).toBeGreaterThan(0);
            expect(body.length - r.frames[0]!.length).toBeLessThan(1000);
            checked++;
          }
          // One instance alone (the viewer's first image, thumbnails), identical to its record in the series stream.
          const one = records[records.length - 1]!;
          const single = [...readRecords(Buffer.from(await (await handler(new Request(`${base}/instances/${one.header.sop}/lps-frames`))).arrayBuffer()))];
          expect(single).toHaveLength(1);
          expect(single[0]!.header).toEqual(one.header);
          expect(Buffer.compare(single[0]!.frames[0]!, one.frames[0]!)).toBe(0);
          // An instance the KOS does not reference is refused, even in a series it does.
          expect((await handler(new Request(`${base}/instances/1.2.3.4.5/lps-frames`))).status).toBe(403);
        }
      sessions.close(handle);
    }
    expect(checked).toBeGreaterThanOrEqual(12);
  });

  it('retrieves the first image when an exam is opened, and hands it once to the request that asks for it', async () => {
    const urls: string[] = [];
    const counting = (async (...a: Parameters<typeof fetch>) => {
      urls.push(String(a[0]));
      return fetch(...a);
    }) as typeof fetch;
    const sessions = new ImagingSessions();
    const deps = { sessions, client: client(TOKEN, { fetch: counting }) };
    const handler = createImagingStreamHandler(deps);
    const kos = kosOf('mr-brain');
    const st = kos.studies[0]!;
    const se = st.series[0]!;
    const sop = se.instances[0]!.sopInstanceUid;
    const { handle, baseUrl } = sessions.open(kos);
    warmFirstImage(deps, handle);
    // Only that image is asked for.
    await new Promise((r) => setTimeout(r, 300));
    expect(urls.map((u) => u.replace(/.*\/series\//, ''))).toEqual([`${se.seriesInstanceUid}/instances/${sop}`]);
    const url = `${baseUrl}/studies/${st.studyInstanceUid}/series/${se.seriesInstanceUid}/instances/${sop}/lps-frames`;
    const warm = await handler(new Request(url));
    expect(warm.status).toBe(200);
    const records = [...readRecords(Buffer.from(await warm.arrayBuffer()))];
    expect(records.map((r) => r.header.sop)).toEqual([sop]);
    expect(urls).toHaveLength(1); // served from the retrieval made at opening
    // Once: asked again, it is retrieved again (the record went to the renderer).
    const again = await handler(new Request(url));
    expect(again.status).toBe(200);
    expect([...readRecords(Buffer.from(await again.arrayBuffer()))][0]!.header).toEqual(records[0]!.header);
    expect(urls).toHaveLength(2);
    // A closed session: nothing warmed, nothing served.
    sessions.close(handle);
    warmFirstImage(deps, handle);
    expect(urls).toHaveLength(2);
    expect((await handler(new Request(url))).status).toBe(410);
  });
});
