#!/usr/bin/env bash
# Sets everything up on a fresh Debian/Ubuntu machine and runs the whole test suite:
# Debian packages, npm packages, type check, the three bundles, then unit + integration + e2e tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
bash scripts/install-deps.sh
bash scripts/npm-install.sh
echo "== type check"
npx tsc --noEmit
echo "== build (main, preload, renderer)"
npx electron-vite build
echo "== tests"
npx vitest run
