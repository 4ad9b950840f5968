#!/usr/bin/env bash
# Checks the links of the project's Markdown (README.md, docs/, every other tracked *.md) that
# point into the repository: the file must exist, and a `#anchor` must name a heading of that
# file as GitHub spells heading anchors. remark-validate-links (run by remark-cli) does the
# checking, offline: links to other sites are never followed. The tools are pinned in
# scripts/doc-links/ and installed by `make doc-tools` into target/doc-links.
#
# Usage: scripts/check-doc-links.sh [--self-test] [FILE...]
#   --self-test  first prove on a scratch tree that a good link of each kind passes and that a
#                missing file, a missing heading in the same file and a missing heading in
#                another file each fail, then check the project's files.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS=$PWD/target/doc-links
REMARK=$TOOLS/node_modules/.bin/remark
if [ ! -x "$REMARK" ]; then
  echo "error: $REMARK is missing; run \`make doc-tools\` first" >&2
  exit 2
fi
# The configuration sits beside the installed plugins, where remark resolves them from.
cp scripts/doc-links/remarkrc.json "$TOOLS/remarkrc.json"
RC=$TOOLS/remarkrc.json

# check FILE...: 0 when every local link and anchor resolves; warnings become failures.
check() {
  "$REMARK" --rc-path "$RC" --frail --quiet --no-stdout --no-color "$@"
}

self_test() {
  local dir out status=0
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' RETURN
  mkdir -p "$dir/docs"
  cat > "$dir/docs/other.md" <<'EOF'
# Other

## A heading, with `code` and punctuation!
EOF
  cat > "$dir/good.md" <<'EOF'
# Good

## Local heading

[same file](#local-heading) [other file](docs/other.md)
[other file's heading](docs/other.md#a-heading-with-code-and-punctuation)
[elsewhere](https://example.invalid/not/fetched#nothing)
EOF
  printf '# Broken\n\n[gone](docs/missing.md)\n' > "$dir/missing-file.md"
  printf '# Broken\n\n## Here\n\n[gone](#not-here)\n' > "$dir/missing-anchor.md"
  printf '# Broken\n\n[gone](docs/other.md#no-such-heading)\n' > "$dir/missing-anchor-elsewhere.md"

  if ! out=$(cd "$dir" && check good.md docs/other.md 2>&1); then
    echo "self-test: good links were refused:" >&2
    echo "$out" >&2
    status=1
  fi
  local broken expect
  for broken in missing-file:missing-file missing-anchor:missing-heading \
    missing-anchor-elsewhere:missing-heading-in-file; do
    expect=${broken#*:}
    broken=${broken%%:*}.md
    if out=$(cd "$dir" && check "$broken" 2>&1); then
      echo "self-test: $broken passed, but its link is broken" >&2
      status=1
    elif ! grep -q "$expect" <<<"$out"; then
      echo "self-test: $broken failed without naming $expect:" >&2
      echo "$out" >&2
      status=1
    fi
  done
  if [ "$status" -eq 0 ]; then
    echo "self-test: good links pass; a missing file, a missing heading and a missing heading in another file each fail"
  fi
  return "$status"
}

if [ "${1:-}" = --self-test ]; then
  shift
  self_test
fi

if [ "$#" -eq 0 ]; then
  # Tracked and new (not ignored) Markdown files; never an installed package's.
  mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.md' \
    | grep -v '/node_modules/')
  set -- "${files[@]}"
fi
if check "$@"; then
  echo "doc links: $# files, every local link and anchor resolves"
else
  echo "error: broken links above (file:line:column, then what is missing)" >&2
  exit 1
fi
