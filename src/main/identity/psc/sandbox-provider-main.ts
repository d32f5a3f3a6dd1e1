/**
 * Entry of the sandbox PSC provider process (started detached by `lps sandbox up`):
 * `node --import tsx sandbox-provider-main.ts <config.json>`.
 */
import fs from 'node:fs';
import { startSandboxPscProvider, type SandboxPscConfig } from './sandbox-provider';

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) throw new Error('usage: sandbox-provider-main <config.json>');
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as SandboxPscConfig;
  const running = await startSandboxPscProvider(cfg);
  process.stdout.write(`PSC sandbox provider ready: ${running.issuer}\n`);
  const stop = () => {
    void running.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: Error) => {
  process.stderr.write(`PSC sandbox provider failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
