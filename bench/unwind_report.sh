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
done | python3 -c '
import json, sys, collections
text = sys.stdin.read(); dec = json.JSONDecoder(); i = 0; docs = []
while i < len(text):
    while i < len(text) and text[i].isspace(): i += 1
    if i >= len(text): break
    d, i = dec.raw_decode(text, i); docs.append(d)
tot = collections.Counter(); handlers = collections.Counter(); shown = 0
print(f"{\"file\":58} {\"entries\":>8} {\"chained\":>8} {\"disagree\":>8} {\"decode s\":>9}  handlers")
for d in docs:
    if d["entries"] == 0: continue
    name = d["file"].split("corpus/")[-1]
    tot["files"] += 1; tot["entries"] += d["entries"]; tot["chained"] += d["chained"]
    tot["mismatch"] += len(d["prolog_mismatches"]); tot["warnings"] += len(d["warnings"])
    handlers.update(d["handlers"])
    if name.startswith("wine-x64/") and not d["prolog_mismatches"] and not d["handlers"]: continue
    h = ", ".join(f"{k} {v}" for k, v in sorted(d["handlers"].items()))
    print(f"{name:58} {d[\"entries\"]:8} {d[\"chained\"]:8} {len(d[\"prolog_mismatches\"]):8} {d[\"decode_seconds\"]:9.3f}  {h}")
print(f"TOTAL {tot[\"files\"]} files: {tot[\"entries\"]} entries, {tot[\"chained\"]} chained, {tot[\"mismatch\"]} prolog disagreements, {tot[\"warnings\"]} warnings")
print("handlers:", ", ".join(f"{k} {v}" for k, v in handlers.most_common()))
'
