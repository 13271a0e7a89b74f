#!/usr/bin/env bash
# `rpc` over Wine's RPC servers and clients (Debian's wine64 / wine32
# packages, stripped with llvm-objcopy-16 --strip-all), all files of one
# architecture in one run: wall seconds (best of three; target under 2 s),
# peak memory, and per module the interfaces, procedures, client calls and
# the calls linked to a server routine of another module; then `analyze` of
# the same files into one project database, with its count of edges between
# modules (each an RPC link of another module, or a port link).
#   bench/rpc.sh [path/to/switchboard]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$here/build/release/switchboard}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "cores: $(nproc)"
modules="rpcss.exe services.exe plugplay.exe schedsvc.dll msi.dll sechost.dll advapi32.dll taskschd.dll netapi32.dll
         setupapi.dll msiexec.exe winspool.drv localspl.dll schtasks.exe sc.exe ole32.dll combase.dll"
for arch in x86_64 i386; do
  src=/usr/lib/$arch-linux-gnu/wine/$arch-windows
  [ -d "$src" ] || { echo "$arch: $src missing (Debian's wine64 / wine32)"; continue; }
  mkdir -p "$tmp/$arch"
  files=()
  for m in $modules; do
    [ -f "$src/$m" ] || continue
    llvm-objcopy-16 --strip-all "$src/$m" "$tmp/$arch/$m"
    files+=("$tmp/$arch/$m")
  done
  best=
  for _ in 1 2 3; do
    start=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$tmp/mem" "$bin" rpc "${files[@]}" --no-pdb --json >"$tmp/$arch.json"
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
  done
  echo "$arch: ${#files[@]} modules in $(awk "BEGIN{printf \"%.2f\", $best/1000}") s, peak $(( $(cat "$tmp/mem") / 1024 )) MB"
  python3 - "$tmp/$arch.json" <<'PY'
import collections, json, sys
d = json.load(open(sys.argv[1]))
per = collections.defaultdict(lambda: [0, 0, 0, 0])
for i in d["interfaces"]:
    per[i["module"]][0] += 1
    per[i["module"]][1] += len(i["procedures"])
for c in d["calls"]:
    per[c["module"]][2] += 1
for l in d["links"]:
    per[l["client_module"]][3] += 1
for m, (i, p, c, l) in sorted(per.items()):
    print(f"  {m:14} interfaces {i:2}  procedures {p:3}  client calls {c:3}  linked {l:3}")
print(f"  links: {len(d['links'])} ({sum(l['client_module'] != l['server_module'] for l in d['links'])} between modules)")
PY
  start=$(date +%s%N)
  "$bin" analyze -q "${files[@]}" --no-pdb -o "$tmp/$arch.sbdb" >/dev/null
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "  analyze into one database: $(awk "BEGIN{printf \"%.2f\", $ms/1000}") s, $(( $(stat -c %s "$tmp/$arch.sbdb") / 1048576 )) MB," \
       "$(sqlite3 "$tmp/$arch.sbdb" "SELECT COUNT(*) FROM edges WHERE to_module_id IS NOT NULL") edges between modules"
done
