#!/usr/bin/env bash
# Times `switchboard classes` and `switchboard vcalls` on the corpus files the
# object-model issue names (onnxruntime.dll, isscint, rcedit, notifu,
# fastlist): wall seconds, peak memory and the summary line of each.
#   bench/classes.sh [path/to/switchboard]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/release/switchboard}
corpus=${SWITCHBOARD_CORPUS:-$HOME/.cache/switchboard/corpus}
if [ ! -f "$corpus/npm/onnxruntime-node/onnxruntime.dll" ]; then
  bash "$here/../shared/corpus/fetch.sh" "$corpus" --sets npm >/dev/null
fi
echo "cores: $(nproc)"
for rel in npm/onnxruntime-node/onnxruntime.dll npm/innosetup/isscint.dll npm/rcedit/rcedit.exe \
           npm/rcedit/rcedit-x64.exe npm/node-notifier/notifu.exe npm/node-notifier/notifu64.exe \
           npm/ps-list/fastlist-0.3.0-x86.exe npm/ps-list/fastlist-0.3.0-x64.exe; do
  f=$corpus/$rel
  for cmd in classes vcalls; do
    start=$(date +%s%N)
    summary=$(/usr/bin/time -f 'peak %M KB' "$bin" $cmd -q "$f" 2>/tmp/sb_bench_time.$$ |
              grep -E '^[0-9]+ (classes|virtual call)' || true)
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    printf '%-40s %-7s %d.%03d s  %s  %s\n' "$rel" "$cmd" $((ms / 1000)) $((ms % 1000)) \
      "$(tail -1 /tmp/sb_bench_time.$$)" "$summary"
  done
done
rm -f /tmp/sb_bench_time.$$
