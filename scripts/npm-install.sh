#!/usr/bin/env bash
# npm dependencies, exactly as locked. The Electron binary is fetched only when asked and possible:
# on machines without access to its download host (CI, this workplace) the types and the build still
# work and the browser harness replaces the runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
if [ -f node_modules/.package-lock.json ] && cmp -s package-lock.json node_modules/.lps-installed-lock 2>/dev/null; then
  echo "npm-install: node_modules up to date"
else
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.lps-installed-lock
fi
if [ "${LPS_WANT_ELECTRON:-0}" = "1" ] && [ ! -f node_modules/electron/path.txt ]; then
  echo "npm-install: fetching the Electron runtime…"
  (unset ELECTRON_SKIP_BINARY_DOWNLOAD; node node_modules/electron/install.js) || echo "npm-install: Electron runtime unavailable here; the browser harness will be used."
fi
