#!/usr/bin/env bash
# `make bench`: criterion benches of the authorizer and login, the Node.js peers on the same
# tokens, AWS calls per operation; prints a table and writes target/bench/summary.json.
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

python3 scripts/bench/summary.py
