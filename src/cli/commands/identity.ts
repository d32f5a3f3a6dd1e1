import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { AppError } from '../../main/core/errors';
import { CardPinError } from '../../main/identity/card/card-service';
import { splitPem } from '../../main/identity/certs';
import { driveLoginOverHttp } from '../../main/identity/psc/test-login';
import { identityRuntime, configureIdentity } from '../../main/identity/runtime';
import { signXades, signXadesManifest } from '../../main/identity/signing/xml-signature';
import { withCore } from '../context';
import { ExitCode, makeOutput } from '../output';

/** Reads the PIN from stdin (piped) or asks for it without echo (terminal). Never printed, never logged. */
async function readPin(prompt = 'Code PIN de la carte CPS : '): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0]!.trim();
  }
  process.stderr.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve) => {
    let pin = '';
    const onData = (b: Buffer) => {
      for (const ch of b.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(pin);
          return;
        }
        if (ch === '\u0003') process.exit(130);
        if (ch === '\u007f') pin = pin.slice(0, -1);
        else pin += ch;
      }
    };
    stdin.on('data', onData);
  });
}

export function registerIdentityCommands(program: Command): void {
  const card = program.command('card').description('CPS card (PKCS#11): status, PIN check, XAdES signature with the card key');

  card
    .command('status')
    .description('token present, holder identity, PIN state; with --pin-stdin also logs in (exit 1 on a wrong PIN, with the remaining tries)')
    .option('--pin-stdin', 'read the PIN from standard input and log in (one attempt)')
    .option('--json', 'print as JSON')
    .action(async (opts: { pinStdin?: boolean; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!opts.json);
      const pin = opts.pinStdin ? await readPin() : undefined;
      const result = await withCore(cmd, (core) => {
        const c = identityRuntime(core).card();
        const status = c.status();
        if (pin === undefined) return { status };
        try {
          return { status: c.login(pin), login: { ok: true } };
        } catch (err) {
          if (err instanceof CardPinError || (err instanceof AppError && err.code.startsWith('CARD_'))) {
            return {
              status: c.status(),
              login: {
                ok: false,
                code: err.code,
                message: err.userMessage,
                ...(err instanceof CardPinError ? { pinState: err.pinState, remainingTries: err.remainingTries } : {}),
              },
            };
          }
          throw err;
        }
      });
      out.result(result, () => {
        const s = result.status;
        if (!s.present) return 'Aucune carte CPS détectée.';
        const h = s.holder;
        const lines = [
          `Carte : ${s.tokenLabel ?? '?'} (${s.slotDescription ?? ''})`,
          h ? `Titulaire : ${h.firstName ?? ''} ${h.lastName ?? ''} — ${h.profession ?? ''} — identifiant national ${h.nationalId}` : 'Titulaire : non lisible',
          `Code PIN : ${s.pinWarning ?? `${s.remainingTries ?? '?'} essai(s) disponible(s)`}`,
        ];
        if (result.login) lines.push(result.login.ok ? 'Code PIN accepté : session ouverte.' : `Échec : ${'message' in result.login ? result.login.message : ''}`);
        return lines.join('\n');
      });
      if (!result.status.present && pin !== undefined) throw new ExitCode(1);
      if (result.login && !result.login.ok) throw new ExitCode(1);
    });

  card
    .command('sign')
    .description('XAdES signature with the card signature key: XML files enveloped, other files detached (manifest)')
    .argument('<file>', 'file to sign')
    .requiredOption('-o, --output <file>', 'signed XML output')
    .option('--pin-stdin', 'read the PIN from standard input (default when stdin is not a terminal)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { output: string; json?: boolean }, cmd: Command) => {
      const out = makeOutput(!!opts.json);
      const data = fs.readFileSync(file);
      const pin = await readPin();
      const result = await withCore(cmd, async (core) => {
        const rt = identityRuntime(core);
        const c = rt.card();
        c.login(pin);
        try {
          const bundle = rt.sandbox()?.pki?.caBundle;
          const pool = bundle && fs.existsSync(bundle) ? splitPem(fs.readFileSync(bundle, 'utf8')) : [];
          const signer = c.xmlSigner('sign', pool);
          const text = data.toString('utf8');
          const isXml = /^\s*(<\?xml|<[A-Za-z_])/.test(text);
          const signed = isXml ? await signXades(text, signer) : await signXadesManifest([{ uri: path.basename(file), data }], signer);
          fs.writeFileSync(opts.output, signed);
          const holder = c.status().holder;
          core.audit.append({ actor: holder?.nationalId ?? 'utilisateur', action: 'identity.card.sign', subject: path.basename(file), outcome: 'success', details: { mode: isXml ? 'enveloped' : 'detached' } });
          return { output: opts.output, mode: isXml ? 'enveloped' : 'detached', signer: holder?.nationalId };
        } finally {
          c.logout();
        }
      });
      out.result(result, () => `Signé (${result.mode === 'enveloped' ? 'XAdES enveloppée' : 'XAdES détachée'}) avec la carte de ${result.signer ?? '?'} : ${result.output}`);
    });

  const psc = program.command('psc').description('Pro Santé Connect (OpenID Connect): login, access token');

  const login = async (cmd: Command, opts: { sandboxAuto?: boolean }, then: (token: () => Promise<string>, session: unknown) => Promise<unknown>) =>
    withCore(cmd, async (core) => {
      const rt = identityRuntime(core);
      const sb = rt.sandbox()?.psc;
      if (opts.sandboxAuto) {
        if (!sb) throw new AppError('SANDBOX_NOT_RUNNING', "Le bac à sable n'est pas démarré (lps sandbox up).", '--sandbox-auto needs the sandbox profile');
        configureIdentity(core, { openBrowser: (u) => driveLoginOverHttp(u, sb.practitioner) });
      } else {
        configureIdentity(core, {
          openBrowser: async (u) => {
            process.stderr.write(`Ouverture du navigateur pour Pro Santé Connect…\nSi rien ne s'ouvre, allez à : ${u}\n`);
            const { openSystemBrowser } = await import('../../main/identity/runtime');
            await openSystemBrowser(u).catch(() => undefined);
          },
        });
      }
      const client = rt.psc();
      const session = await client.login();
      try {
        return await then(() => client.accessToken(), session);
      } finally {
        client.forget(); // plain Node: nothing is kept after the command
      }
    });

  psc
    .command('login')
    .description('log in through the system browser (PKCE + loopback redirect) and print the identity')
    .option('--sandbox-auto', 'sandbox only: fill the sandbox login page automatically (scripts, CI)')
    .option('--json', 'print as JSON')
    .action(async (opts: { json?: boolean; sandboxAuto?: boolean }, cmd: Command) => {
      const out = makeOutput(!!opts.json);
      const session = (await login(cmd, opts, async (_t, s) => s)) as { identity: { nationalId: string; firstName?: string; lastName?: string } };
      out.result(session, () => `Connecté à Pro Santé Connect : ${session.identity.firstName ?? ''} ${session.identity.lastName ?? ''} (${session.identity.nationalId})`);
    });

  psc
    .command('token')
    .description('print a valid access token (refreshed when needed) — for support and scripting; plain Node keeps no session, so this logs in first')
    .option('--sandbox-auto', 'sandbox only: fill the sandbox login page automatically (scripts, CI)')
    .option('--json', 'print as JSON ({ accessToken, expiresAt })')
    .action(async (opts: { json?: boolean; sandboxAuto?: boolean }, cmd: Command) => {
      const result = (await login(cmd, opts, async (token, s) => ({ accessToken: await token(), expiresAt: (s as { accessTokenExpiresAt: string }).accessTokenExpiresAt }))) as { accessToken: string; expiresAt: string };
      // The token goes to stdout only (the caller asked for it); never to stderr or logs.
      process.stdout.write(opts.json ? JSON.stringify(result, null, 2) + '\n' : result.accessToken + '\n');
    });
}
