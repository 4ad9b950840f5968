#!/usr/bin/env bash
# Every check of tokengate, as CI runs it (`make test`), timed phase by phase; the phase table is
# printed at the end, also when a phase fails. Every cargo command below selects a different
# part of the workspace, and each finds the dependencies the previous ones built: the
# workspace-hack crate (cargo-hakari) gives every selection one feature set.
set -uo pipefail
cd "$(dirname "$0")/.."

VENV=.venv
rows=()
started=$(date +%s)

table() {
  local status=$?
  echo
  echo "make test phases (seconds)"
  printf '  %-28s %6s\n' "${rows[@]}"
  printf '  %-28s %6s\n' total $(( $(date +%s) - started ))
  exit "$status"
}
trap table EXIT

phase() { # phase NAME COMMAND...: runs and times one phase; the first failure stops the run
  local name=$1 start
  shift
  echo "== $name"
  start=$(date +%s)
  "$@"
  local status=$?
  rows+=("$name" "$(( $(date +%s) - start ))")
  if [ "$status" -ne 0 ]; then
    echo "error: phase '$name' failed ($status)" >&2
    exit "$status"
  fi
}

one_feature_set() {
  # The workspace-hack crate matches what the workspace asks for, every crate depends on it,
  # and together they leave no dependency built with two feature sets.
  cargo hakari generate --diff --quiet && cargo hakari manage-deps --dry-run --quiet \
    && cargo hakari verify
}

phase install_python_tools make --no-print-directory venv
phase install_cargo_tools make --no-print-directory tools
phase install_doc_tools make --no-print-directory doc-tools
phase format bash -c 'cargo fmt --all -- --check && cargo fmt --manifest-path fuzz/Cargo.toml -- --check'
# Every link of README.md and docs/ into the repository, anchors included (offline), after the
# checker's self-test shows it catches a missing file and a missing heading.
phase doc_links scripts/check-doc-links.sh --self-test
# The README's first flow is the curl lines `make dev` prints.
phase readme_flow scripts/check-readme-flow.sh
phase one_feature_set one_feature_set
phase clippy cargo clippy --workspace --all-targets --locked -- -D warnings
phase dependency_policy cargo deny --locked check licenses bans sources
phase build_tests cargo test --workspace --locked --no-run
phase crate_tests cargo test --workspace --locked --exclude tokengate-tests
phase emulator_tests cargo test --locked -p tokengate-tests --lib --test integration
phase end_to_end cargo test --locked -p tokengate-tests --test e2e
phase template_lint scripts/lint-template.sh
phase template_checks "$VENV/bin/python3" scripts/check-template.py --self-test template.yaml
phase sam_transform "$VENV/bin/python3" scripts/check-sam-transform.py --self-test template.yaml
