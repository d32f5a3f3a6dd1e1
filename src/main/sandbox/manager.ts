import fs from 'node:fs';
import path from 'node:path';
import { SandboxProfile } from '../../shared/api/sandbox';
import { AppError } from '../core/errors';
import { sandboxDir as sandboxDirOf } from '../store/paths';
import { isAlive, spawnDetached, stopPid } from './processes';
import { freePort, SANDBOX_HOST, waitForPort } from './ports';
import { assertRequirements } from './requirements';
import type { SandboxContext, SandboxService } from './service';
import { ALL_SERVICES } from './services';

/** Where the app's own sources live (tsx entries of Node-based services are resolved from here). */
export const APP_ROOT = path.resolve(__dirname, '..', '..', '..');

export interface SandboxManagerOptions {
  dataDir: string;
  services?: SandboxService[];
  appRoot?: string;
  onProgress?: (message: string) => void;
}

export class SandboxManager {
  readonly sandboxDir: string;
  readonly runDir: string;
  readonly profilePath: string;
  private readonly services: SandboxService[];
  private readonly appRoot: string;
  private readonly progress: (message: string) => void;

  constructor(private readonly opts: SandboxManagerOptions) {
    this.sandboxDir = sandboxDirOf(opts.dataDir);
    this.runDir = path.join(this.sandboxDir, 'run');
    this.profilePath = path.join(this.sandboxDir, 'profile.json');
    this.services = opts.services ?? ALL_SERVICES;
    this.appRoot = opts.appRoot ?? APP_ROOT;
    this.progress = opts.onProgress ?? (() => {});
  }

  /** The profile as last written, with `running` recomputed from the recorded PIDs. */
  status(): SandboxProfile {
    const profile = this.read();
    const services = Object.fromEntries(
      Object.entries(profile.services).map(([id, s]) => [id, { ...s, running: profile.running && s.pids.every(isAlive) }]),
    );
    const running = profile.running && Object.values(services).every((s) => s.running);
    return { ...profile, running, services };
  }

  isRunning(): boolean {
    return this.status().running;
  }

  async up(): Promise<SandboxProfile> {
    fs.mkdirSync(this.sandboxDir, { recursive: true, mode: 0o700 });
    const release = this.lock();
    try {
      const current = this.status();
      if (current.running) {
        this.progress('Le bac à sable est déjà démarré.');
        return current;
      }
      await this.stopRecorded(this.read());
      // Check every service's requirements before starting anything.
      for (const s of this.services) if (s.requires) assertRequirements(s.title, s.requires);

      fs.rmSync(this.runDir, { recursive: true, force: true });
      fs.mkdirSync(path.join(this.runDir, 'logs'), { recursive: true, mode: 0o700 });
      const profile: SandboxProfile = { version: 1, running: false, runDir: this.runDir, services: {} };
      this.write(profile);
      try {
        for (const service of this.services) {
          this.progress(`Démarrage : ${service.title}…`);
          const pids: number[] = [];
          profile.services[service.id] = { id: service.id, title: service.title, running: false, ports: {}, pids };
          const started = await service.start(this.context(profile, pids));
          profile.services[service.id] = { id: service.id, title: service.title, running: true, ports: started.ports, pids, ...(started.url ? { url: started.url } : {}) };
          this.write(profile);
        }
      } catch (err) {
        this.progress('Échec du démarrage : arrêt des services déjà lancés.');
        await this.stopRecorded(profile);
        profile.running = false;
        this.write(profile);
        if (err instanceof AppError) throw err;
        throw new AppError(
          'SANDBOX_START_FAILED',
          `Le bac à sable n'a pas pu démarrer. Consultez les journaux dans ${path.join(this.runDir, 'logs')}.`,
          (err as Error).message,
          { cause: err },
        );
      }
      profile.running = true;
      profile.startedAt = new Date().toISOString();
      this.write(profile);
      return this.status();
    } finally {
      release();
    }
  }

  async down(): Promise<{ stopped: number[] }> {
    const release = this.lock();
    try {
      const profile = this.read();
      const stopped = await this.stopRecorded(profile);
      for (const svc of this.services) {
        try {
          svc.cleanUp?.(profile);
        } catch {
          /* best effort: what is left is recreated (emptied) at the next start */
        }
      }
      for (const s of Object.values(profile.services)) {
        s.running = false;
        s.pids = [];
      }
      profile.running = false;
      delete profile.startedAt;
      if (fs.existsSync(this.sandboxDir)) this.write(profile);
      return { stopped };
    } finally {
      release();
    }
  }

  private async stopRecorded(profile: SandboxProfile): Promise<number[]> {
    const pids = Object.values(profile.services).flatMap((s) => s.pids).reverse();
    const stopped: number[] = [];
    for (const pid of pids) {
      const r = await stopPid(pid);
      if (r !== 'absent') stopped.push(pid);
    }
    return stopped;
  }

  private context(profile: SandboxProfile, pids: number[]): SandboxContext {
    const logs = path.join(this.runDir, 'logs');
    const spawn: SandboxContext['spawn'] = (name, command, args, opts) => {
      const pid = spawnDetached({ command, args, logFile: path.join(logs, `${name}.log`), cwd: opts?.cwd, env: opts?.env });
      pids.push(pid);
      this.write(profile);
      return pid;
    };
    return {
      dataDir: this.opts.dataDir,
      sandboxDir: this.sandboxDir,
      runDir: this.runDir,
      appRoot: this.appRoot,
      host: SANDBOX_HOST,
      profile,
      freePort: () => freePort(SANDBOX_HOST),
      spawn,
      spawnNode: (name, entry, args, opts) =>
        spawn(name, process.execPath, ['--import', 'tsx', entry, ...args], { cwd: this.appRoot, env: { ...process.env, ...opts?.env } }),
      waitForPort: (port, pid, timeoutMs) => waitForPort(port, { timeoutMs, isAlive: pid ? () => isAlive(pid) : undefined }),
      log: (m) => this.progress(m),
    };
  }

  private read(): SandboxProfile {
    try {
      return SandboxProfile.parse(JSON.parse(fs.readFileSync(this.profilePath, 'utf8')));
    } catch {
      return { version: 1, running: false, runDir: this.runDir, services: {} };
    }
  }

  private write(profile: SandboxProfile): void {
    const tmp = `${this.profilePath}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(profile, null, 2), { mode: 0o600 });
    fs.renameSync(tmp, this.profilePath);
  }

  /** One `up`/`down` at a time; a lock left by a dead process is taken over. */
  private lock(): () => void {
    fs.mkdirSync(this.sandboxDir, { recursive: true, mode: 0o700 });
    const file = path.join(this.sandboxDir, '.lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
        return () => fs.rmSync(file, { force: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = Number(fs.readFileSync(file, 'utf8'));
        if (holder && isAlive(holder) && holder !== process.pid) {
          throw new AppError('SANDBOX_BUSY', 'Le bac à sable est déjà en cours de démarrage ou d’arrêt par un autre processus.', `lock held by pid ${holder}`);
        }
        fs.rmSync(file, { force: true });
      }
    }
    throw new AppError('SANDBOX_BUSY', 'Le bac à sable est occupé.', `cannot take ${file}`);
  }
}
