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
  wine64-tools libwine-dev    # widl and its headers: the RPC stubs of the RPC fixtures (rpc_store.idl) and the dump fixture (dump_rpc.idl)
)
# The x86 crash-dump tests need Debian's 32-bit Wine, an i386 package: it is
# installed when the machine can add the i386 architecture; without it those
# tests say x86 was skipped.
WINE32=wine32:i386
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]; }
missing=()
for p in "${PKGS[@]}"; do
  installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && installed "$WINE32" && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! installed "$WINE32"; then
  echo "setup: installing $WINE32 (the x86 crash-dump tests)" >&2
  if $SUDO dpkg --add-architecture i386 && $SUDO apt-get update -qq &&
     $SUDO apt-get install -y -qq --no-install-recommends "$WINE32" >/dev/null; then
    :
  else
    echo "setup: warning: $WINE32 could not be installed; the x86 dump tests will be skipped" >&2
  fi
fi
