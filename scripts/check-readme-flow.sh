#!/usr/bin/env bash
# The README's first flow shows the `curl` lines `make dev` prints; this keeps them the same.
# It takes the lines scripts/dev.sh prints after "Try it", expands them as dev.sh does with its
# defaults (state in .dev, the API on http://localhost:3000), and looks for each, whole, in
# README.md. The end-to-end test `make_dev` runs the printed lines themselves.
set -euo pipefail
cd "$(dirname "$0")/.."

template=$(sed -n '/^Try it/,/^Press Ctrl-C/p' scripts/dev.sh | sed '1d;$d' | sed '/^$/d')
if [ "$(wc -l <<<"$template")" -lt 3 ]; then
  echo "error: found no curl lines after \"Try it\" in scripts/dev.sh" >&2
  exit 1
fi
# dev.sh prints them through an unquoted here-document: the same expansion, with its defaults.
printed=$(STATE=.dev URL=http://localhost:3000 bash -c "cat <<MSG
$template
MSG")

missing=0
while IFS= read -r line; do
  line=${line#"${line%%[![:space:]]*}"} # as the README shows it, without the indent
  if ! grep -qxF -- "$line" README.md; then
    echo "error: README.md lacks the line make dev prints: $line" >&2
    missing=1
  fi
done <<<"$printed"
[ "$missing" -eq 0 ] && echo "README's first flow: the $(wc -l <<<"$printed") lines make dev prints"
exit "$missing"
