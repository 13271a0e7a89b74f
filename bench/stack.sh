#!/usr/bin/env bash
# Issue 15's walk figure: every thread of the 50-thread full dump of
# dump_app (the dumps_make test writes it; x64 and x86) walked with -p -r, next to lldb-16's
# `bt all` on the same dump with the same module files; wall seconds and peak
# memory of each, best of five runs.
#   bench/stack.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build/release}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
best() {   # label, command...: the fastest of five runs
  local label=$1; shift
  local best=""
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f '%e %M' -o "$tmp/t" "$@" >/dev/null 2>&1
    read -r s kb <"$tmp/t"
    if [ -z "$best" ] || [ "$(echo "$s < ${best%% *}" | bc)" = 1 ]; then best="$s $kb"; fi
  done
  read -r s kb <<<"$best"
  printf '  %-34s %6.2f s  peak %5d MB\n' "$label" "$s" $((kb / 1024))
}
for arch in x64 x86; do
  dumps=$build/dumps/$arch
  wine=/usr/lib/x86_64-linux-gnu/wine/x86_64-windows
  [ $arch = x86 ] && wine=/usr/lib/i386-linux-gnu/wine/i386-windows
  [ -f "$dumps/dump_app.threads50.full.dmp" ] || { echo "no $arch dumps in $dumps (run: ctest -R dumps_make)"; continue; }
  for kind in threads50.full threads50.normal normal; do
    f=$dumps/dump_app.$kind.dmp
    echo "$arch dump_app.$kind.dmp ($(stat -c %s "$f") bytes)"
    best "switchboard stack -p -r --json" "$build/switchboard" stack "$f" --modules "$wine" -p -r --json
    best "lldb-16 bt all" lldb-16 -b -O "settings set target.exec-search-paths $wine $dumps" -c "$f" -o "bt all"
  done
done
