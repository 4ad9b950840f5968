#!/usr/bin/env bash
# Installs what tests/interop/interop.test.mjs needs, once: the pinned npm packages of
# package.json into tests/interop/node_modules. Safe to run again: it skips what is present.
set -euo pipefail
cd "$(dirname "$0")"

installed() {
  node -p "try { require('./node_modules/$1/package.json').version } catch { '' }"
}
stale=0
for pkg in oauth4webapi aws-jwt-verify; do
  want=$(node -p "require('./package.json').dependencies['$pkg']")
  [ "$(installed "$pkg")" = "$want" ] || stale=1
done
if [ "$stale" = 1 ]; then
  echo "installing the interop clients (npm)"
  # No lock file: its resolved URLs would name a registry host; the pins in package.json are
  # exact and neither package has dependencies of its own.
  npm install --no-package-lock --no-audit --no-fund --ignore-scripts --loglevel=error
fi
