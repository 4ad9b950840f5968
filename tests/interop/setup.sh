#!/usr/bin/env bash
# Installs what tests/interop/interop.test.mjs needs, once: the npm packages pinned by
# package.json and package-lock.json (integrity hashes, no `resolved` URLs: no registry host is
# named here) into tests/interop/node_modules. Safe to run again: it skips what is installed.
set -euo pipefail
cd "$(dirname "$0")"

installed() {
  node -p "try { require('./node_modules/$1/package.json').version } catch { '' }"
}
for pkg in oauth4webapi aws-jwt-verify; do
  want=$(node -p "require('./package-lock.json').packages['node_modules/$pkg'].version")
  if [ "$(installed "$pkg")" != "$want" ]; then
    echo "installing the interop clients (npm ci)"
    npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
    break
  fi
done
