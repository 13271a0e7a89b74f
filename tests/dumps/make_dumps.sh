#!/usr/bin/env bash
# Makes the crash-dump fixtures: runs dump_app.exe (tests/fixtures/src/dump_app.cpp,
# built by tests/fixtures/build.sh) under Wine, which writes minidumps of itself
# and the truth about its threads.
#   tests/dumps/make_dumps.sh FIXTURE_DIR OUT_DIR
# For each architecture Wine can run, OUT_DIR/ARCH/ receives dump_app.exe,
# .pdb and .map (and dump_rpc.dll, its RPC part, when built), and from two runs (the second with --threads 50):
#   dump_app.normal.dmp  dump_app.full.dmp  dump_app.truth.json
#   dump_app.threads50.normal.dmp  dump_app.threads50.full.dmp  dump_app.threads50.truth.json
# Exit 0 when they all exist (and the truth parses, where python3 is there),
# 77 (skipped) when Wine is not installed, 1 otherwise. x86 needs Debian's
# 32-bit Wine (dpkg --add-architecture i386; wine32:i386), which this script
# does not install: without it x86 is skipped with a message.
# The Wine prefixes live in ~/.cache/switchboard/wineprefix-ARCH (made on the
# first run, 10-20 s), one run at a time (flock), each run under a hard timeout;
# the prefix's wineserver is killed at the end.
set -uo pipefail
FIXTURES=${1:?usage: make_dumps.sh FIXTURE_DIR OUT_DIR}
OUT=${2:?usage: make_dumps.sh FIXTURE_DIR OUT_DIR}
RUN_TIMEOUT=${SB_DUMP_TIMEOUT:-240}
BENCH_THREADS=50

WINE64=/usr/lib/wine/wine64
WINE32=/usr/lib/wine/wine
WINESERVER=/usr/lib/wine/wineserver
[ -x "$WINESERVER" ] || WINESERVER=$(command -v wineserver || true)
if [ ! -x "$WINE64" ] || [ -z "$WINESERVER" ]; then
  echo "make_dumps: Wine is not installed ($WINE64, wineserver); skipped (scripts/setup.sh installs wine wine64)"
  exit 77
fi
command -v flock >/dev/null || { echo "make_dumps: flock missing"; exit 1; }
command -v timeout >/dev/null || { echo "make_dumps: timeout missing"; exit 1; }

CACHE=${HOME:-/root}/.cache/switchboard
mkdir -p "$CACHE" "$OUT" || exit 1
OUT=$(cd "$OUT" && pwd)
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
# Message-only windows need no display; do not let a stray DISPLAY decide.
unset DISPLAY WAYLAND_DISPLAY

# Serialize runs: they share the prefixes and kill their wineservers.
exec 9>"$CACHE/wineprefix.lock"
flock -w 900 9 || { echo "make_dumps: could not lock $CACHE/wineprefix.lock"; exit 1; }

prefix_for() { echo "$CACHE/wineprefix-$1"; }
stop_wine() {
  for a in x64 x86; do
    p=$(prefix_for $a)
    [ -d "$p" ] && WINEPREFIX="$p" timeout 30 "$WINESERVER" -k >/dev/null 2>&1
  done
  return 0
}
trap stop_wine EXIT

# make_prefix ARCH LOADER WINEARCH: creates the prefix once (a marker file says
# it was completed; a half-made one is made again).
make_prefix() {
  local p; p=$(prefix_for "$1")
  [ -f "$p/.switchboard-ready" ] && return 0
  echo "make_dumps: creating the Wine prefix $p"
  rm -rf "$p"
  if ! WINEPREFIX="$p" WINEARCH="$3" timeout -k 10 300 "$2" wineboot -i </dev/null >"$CACHE/wineboot-$1.log" 2>&1; then
    echo "make_dumps: wineboot failed for $1 (see $CACHE/wineboot-$1.log)"
    return 1
  fi
  WINEPREFIX="$p" timeout 60 "$WINESERVER" -w
  touch "$p/.switchboard-ready"
}

# run_arch ARCH LOADER WINEARCH
run_arch() {
  local arch=$1 loader=$2 winearch=$3 d="$OUT/$1" p; p=$(prefix_for "$1")
  local exe="$FIXTURES/$arch/dump_app.exe"
  if [ ! -f "$exe" ]; then
    echo "make_dumps: $exe missing (build the fixtures target first)"
    return 1
  fi
  make_prefix "$arch" "$loader" "$winearch" || return 1
  mkdir -p "$d" || return 1
  rm -f "$d"/dump_app.*
  cp "$exe" "$FIXTURES/$arch/dump_app.pdb" "$FIXTURES/$arch/dump_app.map" "$d/" || return 1
  # The RPC part, when widl could build it (dump_app runs without it).
  [ -f "$FIXTURES/$arch/dump_rpc.dll" ] && { cp "$FIXTURES/$arch/dump_rpc.dll" "$d/" || return 1; }
  local ok=0 args base
  for args in "" "--threads $BENCH_THREADS"; do
    base=dump_app; [ -n "$args" ] && base=dump_app.threads$BENCH_THREADS
    echo "make_dumps: $arch: dump_app.exe $args"
    # Run from OUT_DIR/ARCH: the dumps land in the current directory.
    (cd "$d" && WINEPREFIX="$p" timeout -k 10 "$RUN_TIMEOUT" "$loader" ./dump_app.exe $args </dev/null) >"$d/$base.log" 2>&1
    local rc=$?
    sed 's/^/  /' "$d/$base.log"
    [ $rc -eq 0 ] || { echo "make_dumps: $arch: dump_app.exe $args exited $rc"; ok=1; }
    for f in "$base.normal.dmp" "$base.full.dmp" "$base.truth.json"; do
      [ -s "$d/$f" ] || { echo "make_dumps: $arch: $f missing"; ok=1; }
    done
    if [ -s "$d/$base.truth.json" ] && command -v python3 >/dev/null &&
       ! python3 -m json.tool "$d/$base.truth.json" >/dev/null; then
      echo "make_dumps: $arch: $base.truth.json does not parse"; ok=1
    fi
    WINEPREFIX="$p" timeout 30 "$WINESERVER" -k >/dev/null 2>&1
  done
  [ $ok -eq 0 ] && ls -l "$d" | sed 's/^/  /'
  return $ok
}

echo "make_dumps: $("$WINE64" --version 2>/dev/null)"
status=0
run_arch x64 "$WINE64" win64 || status=1
if [ -x "$WINE32" ] && [ -f /usr/lib/i386-linux-gnu/wine/i386-windows/ntdll.dll ]; then
  run_arch x86 "$WINE32" win32 || status=1
else
  echo "make_dumps: x86 skipped: Debian's 32-bit Wine is not installed (dpkg --add-architecture i386; apt-get install wine32:i386)"
fi
exit $status
