import { ensureBuilt } from '../support/build';

/** The e2e tests drive the built renderer. */
export default function setup(): void {
  ensureBuilt();
}
