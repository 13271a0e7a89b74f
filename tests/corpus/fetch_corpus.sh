#!/usr/bin/env bash
# Fetches the npm and deb corpus sets into the cache (a no-op check of hashes
# when they are already there). Without ../shared (not this workplace's
# checkout layout) there is nothing to fetch, and the corpus tests skip.
set -euo pipefail
script=$1 dir=$2
if [ ! -x "$script" ] && [ ! -f "$script" ]; then
  echo "corpus fetch script $script not found; corpus tests will skip"
  exit 0
fi
mkdir -p "$dir"
bash "$script" "$dir" --sets npm,deb,wine-x64,wine-x86
