import fs from 'node:fs';
import path from 'node:path';

/**
 * `../shared` beside the clone: third-party fixtures, schemas and terminologies (never copied into the
 * repo). Tests that need it skip with a clear message where it is absent.
 */
export const SHARED_DIR = path.resolve(__dirname, '..', '..', '..', 'shared');
export const HAS_SHARED = fs.existsSync(path.join(SHARED_DIR, 'fixtures'));
export const SHARED_MISSING = `../shared (fixtures, schemas, terminologies) is absent beside the clone: ${SHARED_DIR}`;

export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}
