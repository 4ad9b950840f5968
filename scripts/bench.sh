#!/usr/bin/env bash
# `make bench`: the authorizer and login timings (shared/handlers/benches/authorizer: on the
# in-memory twin, and through the deployed adapters on the AWS emulator with the DynamoDB reads
# counted), the Node.js peers on the same tokens, cold start/peak memory/size of every
# function's release binary; prints a table, writes target/bench/summary.json, and exits 1
# naming every figure over its budget (scripts/bench/budgets.py).
# Every figure is a ratio against a baseline measured in the same run, the median of its runs
# with their range.
#
# Everything is built with the release profile (fat LTO, one codegen unit): what gets deployed
# is what is measured, and the dependencies are compiled once for all of it. Most of the time
# from a clean clone is that build: each fat-LTO link re-optimises the whole AWS SDK.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=target/bench
mkdir -p "$OUT"
phases="$OUT/phases.txt" # "<phase> <wall seconds> <CPU seconds>" per line; summary.py reports them
: > "$phases"
# CPU time (user + system) of this shell and its finished children, in clock ticks: on a
# shared machine the wall time of a build says more about the neighbours than about the build.
cpu_ticks() {
  local stat
  stat=$(< "/proc/$$/stat")
  set -- ${stat##*) } # fields from the third on: utime is $12, stime $13, cutime $14, cstime $15
  echo $(( ${12} + ${13} + ${14} + ${15} ))
}
TICKS=$(getconf CLK_TCK)
phase() { # phase NAME COMMAND...: runs and times one phase
  local name=$1 start cpu
  start=$(date +%s)
  cpu=$(cpu_ticks)
  shift
  echo "== $name"
  "$@"
  echo "$name $(( $(date +%s) - start )) $(( ($(cpu_ticks) - cpu) / TICKS ))" >> "$phases"
}

# Every Rust target the bench runs is built by this one invocation: the dependencies compile
# once (the workspace-hack crate gives every selection one feature set) and the fat-LTO links
# run side by side; `cargo bench` below finds everything built. The AWS calls per operation are
# not measured here: they do not depend on the build, and `make test` asserts them
# (`aws_round_trips_per_operation`) — a release build of the emulator tests only to count them
# was one more fat-LTO link of the whole SDK; the authorizer's reads per decision at 100
# requests per second are counted by the bench itself. `emulator-stack` (tests/src/bin) is the
# test harness's emulator, bootstrap and call-logging proxy for the bench and coldstart.py.
# The functions are the ones template.yaml deploys (each function's package is named after its
# binary), as coldstart.py and `make package` read them.
packages=(-p coldstart-baseline -p tokengate-tests -p tokengate-handlers)
for function in $(sed -n 's/^ *Binary: *//p' template.yaml); do packages+=(-p "$function"); done
phase release_build cargo build --release --locked --quiet --timings "${packages[@]}" --bins \
  --bench authorizer

# The bench starts `emulator-stack` (built above, beside it) for its store-inclusive decisions.
phase decisions cargo bench --locked --quiet "${packages[@]}" --bench authorizer

node_peers() {
  if command -v node >/dev/null && command -v npm >/dev/null; then
    mkdir -p "$OUT/node"
    cp scripts/bench/package.json scripts/bench/peers.mjs "$OUT/node/"
    (cd "$OUT/node" && npm install --no-package-lock --no-audit --no-fund --silent)
    node "$OUT/node/peers.mjs" "$OUT/tokens.json" > "$OUT/peers.json"
  else
    echo "node/npm not found: peer comparison skipped"
    rm -f "$OUT/peers.json"
  fi
}
phase node_peers node_peers

phase coldstart python3 scripts/bench/coldstart.py

python3 scripts/bench/summary.py
