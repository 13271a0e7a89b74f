#!/usr/bin/env bash
# Per-file totals of the x64 exception directories of the corpus: entries,
# chained entries, handlers by name, prolog disagreements, decode time.
#   bench/unwind_report.sh [path/to/switchboard] [DIR...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/release/switchboard}
shift || true
corpus=${SWITCHBOARD_CORPUS:-$HOME/.cache/switchboard/corpus}
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=("$corpus/npm" "$corpus/deb" "$corpus/wine-x64")
find "${dirs[@]}" -type f | sort | while read -r f; do
  "$bin" unwind --json -q "$f" 2>/dev/null || true
done | python3 "$here/bench/unwind_report.py"
