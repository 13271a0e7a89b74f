#!/bin/sh
# Records every per-file command's --json output (and messages --dot) on the
# fixtures and a fixed list of corpus files, so a refactor can be checked for
# "behaviour kept": run it before and after, then `diff -r BEFORE AFTER`.
# usage: scripts/record-outputs.sh SWITCHBOARD OUTDIR [FILES...]
set -eu
SB=$1; OUT=$2; shift 2
mkdir -p "$OUT"
CACHE=${SWITCHBOARD_CACHE:-$HOME/.cache/switchboard}
if [ $# -eq 0 ]; then
  FIX=$(dirname "$SB")/fixtures
  set -- $(ls "$FIX"/*/*.exe "$FIX"/*/*.dll 2>/dev/null)
  for f in npm/node-pty/win32-x64/OpenConsole.exe npm/node-notifier/notifu64.exe npm/innosetup/isscint.dll \
           npm/7zip-bin/ia32/7za.exe npm/7zip-bin/x64/7za.exe npm/electron-windows-sign/signtool.exe \
           npm/onnxruntime-node/onnxruntime_binding.node; do
    [ -f "$CACHE/corpus/$f" ] && set -- "$@" "$CACHE/corpus/$f"
  done
  STRIP=$OUT/.stripped; mkdir -p "$STRIP"
  for arch in x64 x86; do for m in comctl32.dll notepad.exe regedit.exe; do
    src=$CACHE/corpus/wine-$arch/$m
    [ -f "$src" ] || continue
    llvm-objcopy-16 --strip-all "$src" "$STRIP/$arch-$m" && set -- "$@" "$STRIP/$arch-$m"
  done; done
fi
for f in "$@"; do
  key=$(echo "$f" | sed 's|.*/fixtures/||; s|.*/corpus/||; s|.*/\.stripped/|stripped/|; s|/|_|g')
  d=$OUT/$key; mkdir -p "$d"
  for c in info functions unwind seh eh classes vcalls messages; do
    "$SB" $c --json "$f" >"$d/$c.json" 2>"$d/$c.err" || echo "rc=$?" >>"$d/$c.err"
  done
  "$SB" frame --all --json "$f" >"$d/frame.json" 2>"$d/frame.err" || echo "rc=$?" >>"$d/frame.err"
  "$SB" messages --dot "$f" >"$d/messages.dot" 2>"$d/messages.dot.err" || echo "rc=$?" >>"$d/messages.dot.err"
  for api in SendMessageW CreateThread; do
    "$SB" calls --json "$f" $api >"$d/calls-$api.json" 2>"$d/calls-$api.err" || echo "rc=$?" >>"$d/calls-$api.err"
  done
done
