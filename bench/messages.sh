#!/usr/bin/env bash
# Times `switchboard messages` on the window code the message-flow issue
# names, stripped of symbols first (llvm-objcopy-16 --strip-all): wall
# seconds (best of three), peak memory, and classes / procedures / handled
# messages / send sites. The target is comctl32.dll under 2 s.
#   bench/messages.sh [path/to/switchboard]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/release/switchboard}
corpus=${SWITCHBOARD_CORPUS:-$HOME/.cache/switchboard/corpus}
if [ ! -f "$corpus/wine-x64/comctl32.dll" ]; then
  bash "$here/../shared/corpus/fetch.sh" "$corpus" --sets wine-x64,wine-x86 >/dev/null
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "cores: $(nproc)"
for arch in x64 x86; do
  for m in comctl32.dll user32.dll comdlg32.dll regedit.exe; do
    f=$tmp/$arch-$m
    llvm-objcopy-16 --strip-all "$corpus/wine-$arch/$m" "$f"
    best=
    for _ in 1 2 3; do
      start=$(date +%s%N)
      /usr/bin/time -f 'peak %M KB' "$bin" messages --json "$f" >"$tmp/out.json" 2>"$tmp/time"
      ms=$(( ($(date +%s%N) - start) / 1000000 ))
      if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
    done
    counts=$(python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print("%d classes / %d procedures / %d handled / %d sends" % (len(d["window_classes"]), len(d["procedures"]),
      sum(len(p["handles"]) for p in d["procedures"]), len(d["sends"])))' "$tmp/out.json")
    printf 'wine-%s/%-14s %d.%03d s  %s  %s\n' "$arch" "$m" $((best / 1000)) $((best % 1000)) "$(tail -1 "$tmp/time")" "$counts"
  done
done
