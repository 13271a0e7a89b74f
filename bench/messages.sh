#!/usr/bin/env bash
# Times `switchboard messages` on the real window code of the corpus (Wine's
# GUI modules x64 and x86, OpenConsole, isscint, 7z.sfx, notifu), stripped of
# symbols first (llvm-objcopy-16 --strip-all): wall seconds (best of three),
# peak memory, and classes / procedures / handled (procedure, message) pairs
# / send sites. Run it with two builds to compare them. The target is
# comctl32.dll under 2 s.
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
modules=()
for arch in x64 x86; do
  for m in comctl32.dll user32.dll comdlg32.dll notepad.exe regedit.exe wordpad.exe winefile.exe taskmgr.exe; do
    modules+=("wine-$arch/$m")
  done
done
modules+=(npm/node-pty/win32-x64/OpenConsole.exe npm/innosetup/isscint.dll npm/7zip/7z.sfx
          npm/node-notifier/notifu.exe npm/node-notifier/notifu64.exe)
for rel in "${modules[@]}"; do
    [ -f "$corpus/$rel" ] || continue
    f=$tmp/$(echo "$rel" | tr / _)
    llvm-objcopy-16 --strip-all "$corpus/$rel" "$f" 2>/dev/null || cp "$corpus/$rel" "$f"
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
    printf '%-38s %d.%03d s  %s  %s\n' "$rel" $((best / 1000)) $((best % 1000)) "$(tail -1 "$tmp/time")" "$counts"
done
