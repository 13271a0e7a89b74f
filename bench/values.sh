#!/usr/bin/env bash
# Runs the value tracker over every function of the big x64 DLL of the corpus
# (all cores) and prints the time it takes (the argument-recovery issue's
# bound: under 10 s), three runs.
#   bench/values.sh [path/to/sb_value_bench] [FILE]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/release/bench/sb_value_bench}
corpus=${SWITCHBOARD_CORPUS:-$HOME/.cache/switchboard/corpus}
file=${2:-$corpus/npm/onnxruntime-node/onnxruntime.dll}
if [ ! -f "$file" ]; then
  bash "$here/../shared/corpus/fetch.sh" "$corpus" --sets npm >/dev/null
fi
for run in 1 2 3; do
  "$bin" "$file" "$(nproc)"
done
