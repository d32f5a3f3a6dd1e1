import { afterEach, describe, expect, it } from 'vitest';
import { SandboxManager } from '../../../src/main/sandbox/manager';
import { isAlive } from '../../../src/main/sandbox/processes';
import type { SandboxService } from '../../../src/main/sandbox/service';
import { tempDir } from '../../support/tmp';

/** A real little HTTP server (with a child of its own) started like any sandbox service. */
const httpService = (id: string): SandboxService => ({
  id,
  title: `Service ${id}`,
  async start(ctx) {
    const port = await ctx.freePort();
    const script = `
      const { spawn } = require('node:child_process');
      spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      require('node:http').createServer((q, r) => r.end('ok')).listen(${port}, '127.0.0.1');`;
    const pid = ctx.spawn(id, process.execPath, ['-e', script]);
    await ctx.waitForPort(port, pid);
    (ctx.profile as Record<string, unknown>)[id] = { port };
    return { url: `http://127.0.0.1:${port}/`, ports: { http: port } };
  },
});

const failing: SandboxService = {
  id: 'broken',
  title: 'Service en panne',
  async start(ctx) {
    const port = await ctx.freePort();
    const pid = ctx.spawn('broken', process.execPath, ['-e', 'process.exit(3)']);
    await ctx.waitForPort(port, pid, 3000);
    return { ports: {} };
  },
};

function groupMembers(pid: number): number[] {
  const fs = require('node:fs') as typeof import('node:fs');
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return Number(fields[2]) === pid && fields[0] !== 'Z';
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('sandbox manager', () => {
  const tmps: { cleanup: () => void }[] = [];
  const managers: SandboxManager[] = [];
  afterEach(async () => {
    for (const m of managers.splice(0)) await m.down();
    for (const t of tmps.splice(0)) t.cleanup();
  });
  const make = (services: SandboxService[]) => {
    const t = tempDir();
    tmps.push(t);
    const m = new SandboxManager({ dataDir: t.dir, services });
    managers.push(m);
    return m;
  };

  it('starts services on free ports, writes the profile, and stops every process of every group', async () => {
    const m = make([httpService('one'), httpService('two')]);
    const profile = await m.up();
    expect(profile.running).toBe(true);
    const one = profile.services.one!;
    const two = profile.services.two!;
    expect(one.ports.http).not.toBe(two.ports.http);
    expect(await (await fetch(one.url!)).text()).toBe('ok');
    expect((profile as Record<string, unknown>).two).toEqual({ port: two.ports.http });
    const pids = [...one.pids, ...two.pids];
    const members = pids.flatMap(groupMembers);
    expect(members.length).toBeGreaterThanOrEqual(4); // each server and its child

    expect(m.status().running).toBe(true);
    // up again is idempotent
    expect((await m.up()).services.one!.pids).toEqual(one.pids);

    const { stopped } = await m.down();
    expect(stopped.sort()).toEqual(pids.sort());
    for (const pid of members) expect(isAlive(pid)).toBe(false);
    const after = m.status();
    expect(after.running).toBe(false);
    expect(after.services.one!.pids).toEqual([]);
  });

  it('reports a dead service as not running', async () => {
    const m = make([httpService('one')]);
    const profile = await m.up();
    process.kill(-profile.services.one!.pids[0]!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect(m.status().running).toBe(false);
  });

  it('stops what it started when a later service fails, and says where the logs are', async () => {
    const m = make([httpService('one'), failing]);
    await expect(m.up()).rejects.toMatchObject({ code: 'SANDBOX_START_FAILED', userMessage: expect.stringMatching(/journaux/) });
    const status = m.status();
    expect(status.running).toBe(false);
    const started = status.services.one!.pids;
    for (const pid of started) expect(isAlive(pid)).toBe(false);
  });

  it('names the missing Debian packages and the install script before starting anything', async () => {
    const m = make([httpService('one'), { ...failing, title: 'PACS', requires: { binaries: ['definitely-not-installed-xyz'] } }]);
    await expect(m.up()).rejects.toMatchObject({
      code: 'SANDBOX_MISSING_PACKAGES',
      userMessage: expect.stringMatching(/definitely-not-installed-xyz.*scripts\/install-deps\.sh/),
    });
    expect(m.status().services).toEqual({});
  });
});
