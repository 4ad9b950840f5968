#!/usr/bin/env bash
# `make bench`: criterion benches of the authorizer and login, the Node.js peers on the same
# tokens, AWS calls per operation, cold start/peak memory/size of every function's release
# binary; prints a table and writes target/bench/summary.json.
# Every figure is a ratio against a baseline measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=target/bench
mkdir -p "$OUT"

echo "== criterion: authorizer and login"
cargo bench --quiet -p tokengate-handlers --bench authorizer -- --noplot

echo "== AWS calls per operation (emulator)"
TOKENGATE_BENCH_OUT="$PWD/$OUT" cargo test --quiet -p tokengate-tests --test integration \
  aws_round_trips_per_operation

echo "== Node.js peers (jsonwebtoken, jose) on the same tokens"
if command -v node >/dev/null && command -v npm >/dev/null; then
  mkdir -p "$OUT/node"
  cp scripts/bench/package.json scripts/bench/peers.mjs "$OUT/node/"
  (cd "$OUT/node" && npm install --no-package-lock --no-audit --no-fund --silent)
  node "$OUT/node/peers.mjs" "$OUT/tokens.json" > "$OUT/peers.json"
else
  echo "node/npm not found: peer comparison skipped"
  rm -f "$OUT/peers.json"
fi

echo "== release build: every function, the cold-start baseline, the admin CLI (one invocation)"
# The real release profile (fat LTO, one codegen unit): what gets deployed is what is measured.
# One invocation, so the dependencies are built once for all of them.
build_start=$(date +%s)
cargo build --release --locked --quiet -p login -p refresh -p logout -p authorizer -p jwks -p me \
  -p coldstart-baseline -p tokengate-admin
build_seconds=$(( $(date +%s) - build_start ))
echo "release build: ${build_seconds} s"

echo "== cold start, peak memory and size vs a bare lambda_runtime binary (emulator)"
python3 scripts/bench/coldstart.py --build-seconds "$build_seconds"

python3 scripts/bench/summary.py
