import { execFileSync } from 'node:child_process';
import { AppError } from '../core/errors';

/** The one script that installs every Debian package the sandbox and the tests need. */
export const INSTALL_SCRIPT = 'scripts/install-deps.sh';

function debianPackageInstalled(name: string): boolean | undefined {
  try {
    const out = execFileSync('dpkg-query', ['-W', '-f=${Status}', name], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    return out.includes('install ok installed');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // not a Debian system
    return false;
  }
}

function onPath(binary: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "$1"`, 'sh', binary], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Requirements {
  /** Debian package names. */
  debian?: string[];
  /** Executables that must be on PATH (checked where dpkg is absent, and always). */
  binaries?: string[];
  /** Files that must exist (e.g. a PKCS#11 module). */
  files?: string[];
}

export function missingRequirements(req: Requirements): string[] {
  const missing: string[] = [];
  for (const p of req.debian ?? []) {
    if (debianPackageInstalled(p) === false) missing.push(p);
  }
  for (const b of req.binaries ?? []) if (!onPath(b)) missing.push(b);
  return missing;
}

export function assertRequirements(serviceTitle: string, req: Requirements): void {
  const missing = missingRequirements(req);
  if (missing.length) {
    throw new AppError(
      'SANDBOX_MISSING_PACKAGES',
      `Le bac à sable ne peut pas démarrer « ${serviceTitle} » : il manque ${missing.join(', ')}. Installez-les avec : sudo bash ${INSTALL_SCRIPT}`,
      `missing: ${missing.join(' ')}`,
    );
  }
}
