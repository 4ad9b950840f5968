#!/usr/bin/env bash
# Installs what tests/browser/demo.test.mjs needs, once: Chromium from the distribution's
# packages (Playwright's own browser downloads are not used) and the pinned npm packages of
# package.json into tests/browser/node_modules. Safe to run again: it skips what is present.
set -euo pipefail
cd "$(dirname "$0")"

if [ ! -x /usr/bin/chromium ]; then
  echo "installing chromium (apt)"
  # Root in CI containers; sudo elsewhere.
  SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
fi

# Compare the installed version with the pin so a bumped package.json reinstalls.
want=$(node -p 'require("./package.json").dependencies["playwright-core"]')
have=$(node -p 'try { require("./node_modules/playwright-core/package.json").version } catch { "" }')
if [ "$have" != "$want" ]; then
  echo "installing playwright-core $want (npm)"
  # No lock file: its resolved URLs would name a registry host; the pins in package.json
  # are exact and playwright-core has no dependencies of its own.
  npm install --no-package-lock --no-audit --no-fund --ignore-scripts --loglevel=error
fi
