import { execFile } from 'node:child_process';
import { AppError } from '../../core/errors';

/** Runs the `openssl` command line (test CA and sandbox provisioning only; the app itself never needs it). */
export function openssl(args: string[], opts: { cwd?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<Buffer> {
  return run('openssl', args, opts);
}

export function run(command: string, args: string[], opts: { cwd?: string; input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'buffer', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') {
            reject(new AppError('TOOL_MISSING', `L'outil « ${command} » est introuvable : installez les dépendances du bac à sable (scripts/install-deps.sh).`, `${command}: not found`));
            return;
          }
          // Never echo the arguments: they may carry a PIN or a password.
          reject(new Error(`${command} ${args[0] ?? ''} failed: ${stderr.toString('utf8').trim().slice(0, 1500)}`));
          return;
        }
        resolve(stdout);
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    else child.stdin?.end();
  });
}
