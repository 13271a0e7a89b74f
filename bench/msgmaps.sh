#!/usr/bin/env bash
# What the framework message maps (MFC tables, ATL maps) cost `messages`:
# for comctl32 (Wine, x64 and x86, stripped), onnxruntime.dll and
# msalruntime.dll (x64, x86: ATL) the `message maps` phase of `--stats`,
# the whole command (best of three, wall seconds), the maps found, and with
# a second binary built before the maps existed the ratio of the two
# (target: at most 1.10).
#   bench/msgmaps.sh [path/to/switchboard] [path/to/baseline-switchboard]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/release/switchboard}
base=${2:-}
corpus=${SWITCHBOARD_CORPUS:-$HOME/.cache/switchboard/corpus}
corpus2=${SWITCHBOARD_CORPUS2:-$HOME/.cache/switchboard/corpus2}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "cores: $(nproc)"
best() {   # best wall milliseconds of three runs of "$@"
  local b=
  for _ in 1 2 3; do
    local start=$(date +%s%N)
    "$@" >/dev/null 2>&1
    local ms=$(( ($(date +%s%N) - start) / 1000000 ))
    if [ -z "$b" ] || [ "$ms" -lt "$b" ]; then b=$ms; fi
  done
  echo "$b"
}
for src in "$corpus/wine-x64/comctl32.dll" "$corpus/wine-x86/comctl32.dll" \
           "$corpus/npm/onnxruntime-node/onnxruntime.dll" \
           "$corpus2/npm/msal-node-runtime/x64/msalruntime.dll" "$corpus2/npm/msal-node-runtime/x86/msalruntime_x86.dll"; do
  [ -f "$src" ] || { echo "missing $src (fetch the corpora)"; continue; }
  f=$tmp/$(basename "$(dirname "$src")")_$(basename "$src")
  llvm-objcopy-16 --strip-all "$src" "$f" 2>/dev/null || cp "$src" "$f"
  phase=$("$bin" messages --stats --json "$f" 2>&1 >/dev/null | awk '/message maps/ {print $3}')
  found=$("$bin" messages --json "$f" | python3 -c 'import json,sys
m = json.load(sys.stdin)["message_maps"]
print("%d MFC / %d ATL maps, %d ATL classes" % (len(m["mfc"]), len(m["atl"]), len(m["atl_window_classes"])))')
  ms=$(best "$bin" messages --json "$f")
  line=$(printf '%-34s maps %s s  messages %d.%03d s  %s' "${src#"$HOME"/.cache/switchboard/}" "$phase" $((ms / 1000)) $((ms % 1000)) "$found")
  if [ -n "$base" ]; then
    bms=$(best "$base" messages --json "$f")
    line+=$(python3 -c "import sys; print('  baseline %.3f s, ratio %.3f' % ($bms / 1000, $ms / $bms))")
  fi
  echo "$line"
done
