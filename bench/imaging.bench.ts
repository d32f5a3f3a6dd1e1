/**
 * Imaging benchmark: the generated 300-slice 512×512 CT stored uncompressed, JPEG-LS and JPEG 2000, served
 * by a real Orthanc behind the sandbox proxy. For each syntax, next to a raw WADO-RS download of the same
 * series measured in the same run:
 *  - time to first image through our client (series stream, KOS already resolved) and through the
 *    renderer stream handler (first frame, as the viewer asks for it);
 *  - full load through our client (streamed multipart, instances parsed) relative to the raw download;
 *  - decode cost per frame in Node (CharLS / OpenJPEG wasm) and what full transfer + decode on 2 workers
 *    would take if perfectly overlapped.
 * The generated data is cached in $LPS_BENCH_DIR (default: <tmp>/lps-bench-imaging) so reruns start fast.
 * Then the viewer itself (bench/imaging-viewer.ts): Chromium, strict page CSP, the real sandbox — see there.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { decodeJ2k, decodeJpegLs } from '../src/main/imaging/codecs';
import { T, TS } from '../src/main/imaging/dicom/constants';
import { parseDicom } from '../src/main/imaging/dicom/parser';
import { ACCEPT_FRAMES, ACCEPT_INSTANCES, DicomwebClient, kosTargets } from '../src/main/imaging/dicomweb-client';
import { parseKos } from '../src/main/imaging/kos';
import { ORTHANC_BIN, OrthancRest, writeOrthancConfig } from '../src/main/imaging/orthanc';
import { loadSeedIntoOrthanc } from '../src/main/imaging/pacs-loader';
import { createPacsProxy } from '../src/main/imaging/pacs-proxy';
import { pacsDir, prepareSandboxImaging } from '../src/main/imaging/sandbox-seed';
import { createImagingStreamHandler, ImagingSessions } from '../src/main/imaging/stream-handler';
import { stopPid } from '../src/main/sandbox/processes';
import { freePort, waitForPort } from '../src/main/sandbox/ports';
import { viewerBench } from './imaging-viewer';

const TOKEN = 'bench-token';
const RUNS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}
const ms = (x: number) => `${x.toFixed(0).padStart(6)} ms`;

async function main() {
  const dir = process.env.LPS_BENCH_DIR ?? path.join(os.tmpdir(), 'lps-bench-imaging');
  const t0 = performance.now();
  const seed = await prepareSandboxImaging({ sandboxDir: dir, onProgress: (m) => console.log(m) });
  console.log(`seed ready in ${ms(performance.now() - t0)}`);
  const odir = path.join(pacsDir(dir), 'orthanc');
  const port = await freePort();
  const child = spawn(ORTHANC_BIN, [writeOrthancConfig({ dir: odir, httpPort: port })], { detached: true, stdio: 'ignore', cwd: odir });
  const servers: http.Server[] = [];
  try {
    await waitForPort(port, { timeoutMs: 30_000 });
    const orthancUrl = `http://127.0.0.1:${port}`;
    await loadSeedIntoOrthanc(new OrthancRest(orthancUrl), seed, path.join(odir, 'storage'), (m) => console.log(m));
    const proxy = createPacsProxy({ upstream: orthancUrl, staticTokens: [TOKEN], requireKosHeader: true });
    servers.push(proxy);
    await new Promise<void>((r) => proxy.listen(seed.proxyPort, '127.0.0.1', r));

    const ct = seed.studies.find((s) => s.key === 'ct-phantom')!;
    const kos = parseKos(fs.readFileSync(ct.kosFile));
    const client = new DicomwebClient({ getToken: () => TOKEN });
    const sessions = new ImagingSessions();
    const handler = createImagingStreamHandler({ sessions, client });
    const { baseUrl } = sessions.open(kos);

    console.log(`\nCT ${ct.series[0]!.instances.length} × 512² slices, loopback, median of ${RUNS} runs`);
    console.log('syntax        | raw WADO-RS | client 1st | viewer 1st frame | client full | ratio | record stream | ratio | MiB   | decode/frame | transfer‖decode(2w)');
    for (const t of kosTargets(kos).targets) {
      const tsUid = ct.series.find((s) => s.seriesInstanceUid === t.series.seriesInstanceUid)!.transferSyntaxUid;
      const name = tsUid === TS.ExplicitLE ? 'uncompressed' : tsUid === TS.JpegLsLossless ? 'JPEG-LS' : 'JPEG 2000';
      const raw: number[] = [];
      const first: number[] = [];
      const full: number[] = [];
      const firstFrame: number[] = [];
      const records: number[] = [];
      let bytes = 0;
      for (let r = 0; r < RUNS; r++) {
        // Baseline: plain fetch of the whole series, bytes only.
        let s = performance.now();
        const res = await fetch(t.target.seriesUrl, { headers: { authorization: `Bearer ${TOKEN}`, accept: ACCEPT_INSTANCES, 'kos-sopinstanceuid': kos.sopInstanceUid } });
        bytes = (await res.arrayBuffer()).byteLength;
        raw.push(performance.now() - s);
        // Our client: streamed parts, each parsed as DICOM.
        s = performance.now();
        let n = 0;
        for await (const inst of client.retrieveSeries(t.target)) {
          if (n === 0) first.push(performance.now() - s);
          parseDicom(inst.bytes);
          n++;
        }
        full.push(performance.now() - s);
        // What the viewer reads: the series as instance records (metadata + frames) from the stream handler.
        s = performance.now();
        const rec = await handler(new Request(`${baseUrl}/studies/${t.study.studyInstanceUid}/series/${t.series.seriesInstanceUid}/lps-frames`));
        for await (const _ of rec.body as unknown as AsyncIterable<Uint8Array>) void _;
        records.push(performance.now() - s);
        // The viewer's first request: one frame through the renderer handler.
        const sop = t.series.instances[(r * 37) % t.series.instances.length]!.sopInstanceUid;
        s = performance.now();
        const fr = await handler(new Request(`${baseUrl}/studies/${t.study.studyInstanceUid}/series/${t.series.seriesInstanceUid}/instances/${sop}/frames/1`, { headers: { accept: ACCEPT_FRAMES } }));
        await fr.arrayBuffer();
        firstFrame.push(performance.now() - s);
      }
      // Decode cost per frame (Node, wasm), on 20 frames of the cached files.
      let decode = 0;
      if (tsUid !== TS.ExplicitLE) {
        const files = ct.series.find((x) => x.transferSyntaxUid === tsUid)!.instances.slice(0, 20).map((i) => fs.readFileSync(i.file));
        const frames = files.map((b) => {
          const ds = parseDicom(b).dataset;
          const f = ds.elements.get(T.PixelData)!.fragments![1]!;
          return ds.bytes.subarray(f.offset, f.offset + f.length);
        });
        const dec = tsUid === TS.JpegLsLossless ? decodeJpegLs : decodeJ2k;
        await dec(frames[0]!); // warm-up (wasm compile)
        const s = performance.now();
        for (const f of frames) await dec(f);
        decode = (performance.now() - s) / frames.length;
      }
      const n = t.series.instances.length;
      const overlapped = Math.max(median(full), (decode * n) / 2);
      console.log(
        `${name.padEnd(13)} | ${ms(median(raw))}   | ${ms(median(first))} | ${ms(median(firstFrame))}        | ${ms(median(full))}   | ${(median(full) / median(raw)).toFixed(2)}× | ${ms(median(records))}     | ${(median(records) / median(raw)).toFixed(2)}× | ${(bytes / 1048576).toFixed(0).padStart(5)} | ${decode ? `${decode.toFixed(1).padStart(7)} ms` : '      —   '}   | ${decode ? ms(overlapped) : '     —'}`,
      );
    }
    console.log('\nTargets (issue 7): first image ≤ 150 ms; uncompressed full load ≤ 1.2× raw; compressed: transfer and decode overlapped.');
  } finally {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    if (child.pid) await stopPid(child.pid);
  }
}

main()
  .then(() => (process.env.LPS_BENCH_SKIP_VIEWER ? undefined : viewerBench()))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
