import { Command, CommanderError } from 'commander';
import { productInfo } from '../main/core/version';
import { registerAuditCommands } from './commands/audit';
import { registerImagingCommands } from './commands/imaging';
import { registerDocumentsCommands } from './commands/documents';
import { registerSandboxCommands } from './commands/sandbox';
import { registerDmpCommands } from './commands/dmp';
import { registerMailCommands } from './commands/mail';
import { registerDirectoryCommands } from './commands/directory';
import { registerIdentityCommands } from './commands/identity';
import { ExitCode, printError } from './output';

/** Builds the `lps` program; each capability adds its commands with one `register…Commands` call. */
export function buildProgram(): Command {
  const program = new Command('lps')
    .description(`${productInfo().name} — command line (documents, mail, DMP, imaging, sandbox)`)
    .version(productInfo().version)
    .option('--data-dir <dir>', 'data directory (default: LPS_DATA_DIR, else the per-OS app data folder)')
    .showHelpAfterError()
    .exitOverride();
  registerSandboxCommands(program);
  registerDmpCommands(program);
  registerIdentityCommands(program);
  registerMailCommands(program);
  registerDirectoryCommands(program);
  registerAuditCommands(program);
  registerImagingCommands(program);
  registerDocumentsCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof ExitCode) return err.code;
    if (err instanceof CommanderError) return err.exitCode;
    printError(err, argv.includes('--json'));
    return 1;
  }
}
