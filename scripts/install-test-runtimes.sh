#!/usr/bin/env bash
# Installs Bun and Deno (their binaries ship inside npm packages) outside the project, so the SDK's
# runtime test (test/e2e/sdk-runtimes.test.ts) can run the SDK on them. Kept out of devDependencies:
# ~150 MB of binaries that nobody who only develops the server needs on every `npm install`.
# Usage: scripts/install-test-runtimes.sh [prefix]   (default /opt/latchkey-test-runtimes)
set -euo pipefail
prefix="${1:-/opt/latchkey-test-runtimes}"
mkdir -p "$prefix"
npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$prefix" bun@1.4.5 deno@2.9.6 >/dev/null
"$prefix/node_modules/.bin/bun" --version >/dev/null
"$prefix/node_modules/.bin/deno" --version >/dev/null
echo "$prefix/node_modules/.bin"
