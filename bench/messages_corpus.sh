#!/usr/bin/env bash
# Window-message recovery on the real corpus, stripped: classes, procedures,
# handled (procedure, message) pairs and sends per module, for one
# switchboard binary (run it with two builds to compare before and after).
#   bench/messages_corpus.sh [SWITCHBOARD] [CORPUS_DIR]
set -euo pipefail
SB=${1:-build/release/switchboard}
CORPUS=${2:-$HOME/.cache/switchboard/corpus}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
modules=()
for arch in x64 x86; do
  for m in comctl32.dll user32.dll comdlg32.dll notepad.exe regedit.exe wordpad.exe winefile.exe taskmgr.exe; do
    modules+=("wine-$arch/$m")
  done
done
modules+=(npm/node-pty/win32-x64/OpenConsole.exe npm/innosetup/isscint.dll npm/7zip/7z.sfx
          npm/node-notifier/notifu.exe npm/node-notifier/notifu64.exe)
printf '%-36s %8s %8s %8s %8s %8s\n' module classes procs pairs sends seconds
for rel in "${modules[@]}"; do
  f="$CORPUS/$rel"
  [ -f "$f" ] || continue
  s="$tmp/$(basename "$f")"
  llvm-objcopy-16 --strip-all "$f" "$s" 2>/dev/null || cp "$f" "$s"
  start=$(date +%s.%N)
  "$SB" messages --json -q "$s" >"$tmp/out.json" || true
  end=$(date +%s.%N)
  python3 - "$tmp/out.json" "$rel" "$(echo "$end - $start" | bc)" <<'PY'
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception:
    print(f"{sys.argv[2]:36s} (no output)"); sys.exit()
pairs = sum(len(p.get("handles", [])) for p in d.get("procedures", []))
sends = [s for s in d.get("sends", []) if not s.get("api", "").startswith(("DefWindowProc", "CallWindowProc"))]
print(f"{sys.argv[2]:36s} {len(d.get('window_classes', [])):8d} {len(d.get('procedures', [])):8d} {pairs:8d} {len(sends):8d} {float(sys.argv[3]):8.2f}")
PY
done
