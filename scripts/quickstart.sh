#!/usr/bin/env bash
# Sets everything up on a fresh Debian/Ubuntu machine and starts the app on the sandbox.
# Electron when its runtime can be installed and a display exists; the browser harness otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
LPS_WANT_ELECTRON=1 bash scripts/npm-install.sh
npx electron-vite build
node bin/lps.cjs sandbox up
exec node scripts/start.cjs --no-build
