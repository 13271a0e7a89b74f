#!/usr/bin/env bash
# The session and project-database figures of issue 13, each as a ratio to
# the floor measured in the same run (one linear decode of every code byte
# of the same file, sb_linear_decode --floor): `analyze` (every analysis,
# written to an .sbdb), `vcalls --json` on the binary, `classes` answered
# from the .sbdb; wall seconds, peak memory, database size.
#   bench/analyze.sh [BUILD_DIR] [FILE...]   (default: onnxruntime.dll, stripped Wine comctl32 x64)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build/release}; shift || true
sb=$build/switchboard; floorbin=$build/bench/sb_linear_decode
corpus=${SWITCHBOARD_CORPUS:-$HOME/.cache/switchboard/corpus}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=("$corpus/npm/onnxruntime-node/onnxruntime.dll")
  if [ -f "$corpus/wine-x64/comctl32.dll" ]; then
    llvm-objcopy-16 --strip-all "$corpus/wine-x64/comctl32.dll" "$tmp/comctl32-stripped.dll"
    files+=("$tmp/comctl32-stripped.dll")
  fi
fi
# seconds and peak MB of one command: "S MB"
measure() {
  /usr/bin/time -f '%e %M' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; return 1; }
  awk '{printf "%s %.0f", $1, $2 / 1024}' "$tmp/time"
}
echo "cores: $(nproc)"
for f in "${files[@]}"; do
  [ -f "$f" ] || { echo "missing: $f (skipped)"; continue; }
  floor=$("$floorbin" --floor "$f")
  db=$tmp/$(basename "$f").sbdb
  printf '%s (%d bytes): floor %.3f s\n' "$(basename "$f")" "$(stat -c %s "$f")" "$floor"
  report() {   # label, "S MB"
    read -r s mb <<<"$2"
    printf '  %-22s %7.3f s  %6.1fx floor  peak %5d MB\n' "$1" "$s" "$(echo "$s / $floor" | bc -l)" "$mb"
  }
  report "analyze" "$(measure "$sb" analyze -q --no-pdb "$f" -o "$db")"
  printf '  %-22s %7.1f MB\n' "database" "$(echo "$(stat -c %s "$db") / 1000000" | bc -l)"
  report "vcalls --json" "$(measure "$sb" vcalls --json -q --no-pdb "$f")"
  report "classes (binary)" "$(measure "$sb" classes -q --no-pdb "$f")"
  report "classes (.sbdb)" "$(measure "$sb" classes -q "$db")"
  report "graph --json (.sbdb)" "$(measure "$sb" graph --json -q "$db")"
done
