#!/usr/bin/env bash
# The browser test end to end: installs what it needs (setup.sh), starts the stack of
# `make dev` on free ports with the short lifetimes the test relies on, runs demo.test.mjs
# against it and stops the stack. Logs of a failed run stay in target/browser-state-<pid>/.
set -euo pipefail
cd "$(dirname "$0")/../.."

tests/browser/setup.sh

free_port() {
  node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}
gateway_port=$(free_port)
state=target/browser-state-$$
mkdir -p "$state"

# dev.sh in its own session (so one signal stops it and everything it started); its trap
# stops its children on TERM.
DEV_STATE=$state MOTO_PORT=$(free_port) LAMBDA_PORT=$(free_port) \
  GATEWAY_ADDR=127.0.0.1:$gateway_port \
  TOKENGATE_ACCESS_TTL_SECONDS=4 TOKENGATE_REFRESH_GRACE_SECONDS=1 \
  TOKENGATE_LEEWAY_SECONDS=0 TOKENGATE_AUTHORIZER_CACHE_TTL=0 \
  setsid scripts/dev.sh > "$state/dev.log" 2>&1 &
stack=$!
stop_stack() {
  kill -TERM -- "-$stack" 2>/dev/null || true
  wait "$stack" 2>/dev/null || true
}
trap stop_stack EXIT

# The first start builds everything, which can take many minutes on a small machine.
for _ in $(seq 1 1800); do
  grep -qs '^Press Ctrl-C' "$state/dev.log" && break
  if ! kill -0 "$stack" 2>/dev/null; then
    echo "error: the dev stack exited; see $state/" >&2
    tail -n 20 "$state/dev.log" >&2
    exit 1
  fi
  sleep 1
done
grep -qs '^Press Ctrl-C' "$state/dev.log" || { echo "error: the dev stack did not come up; see $state/" >&2; exit 1; }

# localhost, not 127.0.0.1: the origin a user of the demo opens (dev.sh allows both).
TOKENGATE_GATEWAY_URL=http://localhost:$gateway_port node tests/browser/demo.test.mjs
stop_stack
trap - EXIT
rm -rf "$state"
