#!/usr/bin/env bash
# Times `switchboard functions` on the big x64 DLL of the corpus and prints
# the function count and wall seconds for three runs (all cores).
#   bench/functions.sh [path/to/switchboard] [FILE]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/release/switchboard}
corpus=${SWITCHBOARD_CORPUS:-$HOME/.cache/switchboard/corpus}
file=${2:-$corpus/npm/onnxruntime-node/onnxruntime.dll}
if [ ! -f "$file" ]; then
  bash "$here/../shared/corpus/fetch.sh" "$corpus" --sets npm >/dev/null
fi
echo "file:  $file ($(stat -c %s "$file") bytes), cores: $(nproc)"
for run in 1 2 3; do
  start=$(date +%s%N)
  summary=$("$bin" functions -q "$file" | grep -E '^[0-9]+ functions')
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  printf 'run %d: %s; wall %d.%03d s\n' "$run" "$summary" $((ms / 1000)) $((ms % 1000))
done
