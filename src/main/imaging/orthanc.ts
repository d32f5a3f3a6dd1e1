import fs from 'node:fs';
import path from 'node:path';

/**
 * A private Orthanc (Debian `orthanc` 1.10 + `orthanc-dicomweb` 1.7) for the sandbox and the tests.
 * Orthanc 1.10 has no bind-address option: it listens on every interface, and `RemoteAccessAllowed: false`
 * makes it refuse any client that is not on the loopback. The app only ever talks to it through the
 * loopback auth proxy (`pacs-proxy.ts`), which binds 127.0.0.1.
 */

export const ORTHANC_BIN = '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';
export const DICOMWEB_ROOT = '/dicom-web';

export interface OrthancConfigOptions {
  /** Holds the storage, the index and the configuration. */
  dir: string;
  httpPort: number;
  name?: string;
}

/** Writes the configuration and returns its path. Storage lives under `dir` and persists across runs. */
export function writeOrthancConfig(opts: OrthancConfigOptions): string {
  const storage = path.join(opts.dir, 'storage');
  fs.mkdirSync(storage, { recursive: true, mode: 0o700 });
  const config = {
    Name: opts.name ?? 'LPS-SANDBOX-PACS',
    StorageDirectory: storage,
    IndexDirectory: storage,
    HttpPort: opts.httpPort,
    HttpServerEnabled: true,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomServerEnabled: false,
    HttpCompressionEnabled: false,
    KeepAlive: true,
    TcpNoDelay: true,
    HttpThreadsCount: 16,
    SaveJobs: false,
    StorageAccessOnFind: 'Always',
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: {
      Enable: true,
      Root: `${DICOMWEB_ROOT}/`,
      EnableWado: false,
      Ssl: false,
      StudiesMetadata: 'Full',
      SeriesMetadata: 'Full',
    },
  };
  const file = path.join(opts.dir, 'orthanc.json');
  fs.writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}

/** Minimal REST client for seeding Orthanc (loopback only). */
export class OrthancRest {
  constructor(readonly baseUrl: string) {}

  async json<T>(method: string, p: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.baseUrl}${p}`, {
      method,
      ...(body !== undefined ? { body: (typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body)) as BodyInit } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`Orthanc ${method} ${p}: HTTP ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async upload(bytes: Uint8Array): Promise<{ ID: string; Status: string; ParentSeries: string; ParentStudy: string }> {
    return this.json('POST', '/instances', bytes);
  }

  /** The modified file (not stored): new tags, forced UIDs, optional transcoding. */
  async modifiedFile(instanceId: string, body: { Replace?: Record<string, string>; Remove?: string[]; Transcode?: string }): Promise<Buffer> {
    const res = await fetch(`${this.baseUrl}/instances/${instanceId}/modify`, {
      method: 'POST',
      body: JSON.stringify({ ...body, Force: true, KeepSource: true }),
    });
    if (!res.ok) throw new Error(`Orthanc modify ${instanceId}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    return Buffer.from(await res.arrayBuffer());
  }

  async delete(p: string): Promise<void> {
    const res = await fetch(`${this.baseUrl}${p}`, { method: 'DELETE' });
    if (!res.ok && res.status !== 404) throw new Error(`Orthanc DELETE ${p}: HTTP ${res.status}`);
  }

  async statistics(): Promise<{ CountInstances: number; CountStudies: number }> {
    return this.json('GET', '/statistics');
  }
}
