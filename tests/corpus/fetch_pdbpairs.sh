#!/usr/bin/env bash
# Fetches real MSVC PE+PDB pairs into the cache with a shared fetch script
# (../shared/pdbpairs/fetch.sh, ../shared/corpus2/fetch.sh: checked against
# their manifests; a no-op when present); further arguments go to the script.
# Without ../shared or without the network the pairs test skips instead of
# failing.
set -uo pipefail
script=$1 dir=$2
shift 2
if [ ! -f "$script" ]; then
  echo "pdbpairs fetch script $script not found; the PDB-pair test will skip"
  exit 0
fi
mkdir -p "$dir"
if ! bash "$script" "$dir" "$@"; then
  echo "pdbpairs could not be fetched; the PDB-pair test will skip"
fi
exit 0
