#!/usr/bin/env bash
# Installs the Debian 12 packages switchboard needs. Idempotent: when everything is
# present it only runs dpkg-query once and exits (well under a second).
set -euo pipefail
PKGS=(
  cmake make g++ ninja-build pkg-config
  libzydis-dev llvm-16-dev nlohmann-json3-dev libcli11-dev libfmt-dev
  libsqlite3-dev libgtest-dev libgmock-dev
  clang-16 lld-16 llvm-16 llvm-16-tools libclang-rt-16-dev
  g++-mingw-w64-x86-64-win32 g++-mingw-w64-i686-win32
  graphviz
  chromium chromium-driver   # the HTML report's browser tests (tests/report)
  wine wine64 lldb-16        # crash-dump tests (tests/dumps: dump_app under Wine 8) and the lldb peer
)
missing=()
for p in "${PKGS[@]}"; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "setup: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
