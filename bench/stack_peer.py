#!/usr/bin/env python3
"""switchboard `stack` side by side with lldb-16 on the dump_app dumps.

  bench/stack_peer.py SWITCHBOARD DUMP_DIR [WINE_DLL_DIR]

For each dump (normal, full) and each tool (lldb without module files, with
the module files but not dump_app's PDB, and with both; switchboard with the
module files, without and with the PDB), per thread: frames walked, and how
many of the truth's frames (dump_app.truth.json: our functions, innermost
first) the walk reaches in order, judged by address (the function holding
each frame's pc, from the linker map dump_app.map), not by name, so walks
without symbols count too. Wall times too. DUMP_DIR is an arch's
directory (build/dev/dumps/x64 or .../x86); WINE_DLL_DIR defaults to Wine's
modules of that arch.
"""
import json, os, re, shutil, subprocess, sys, tempfile, time

sb, dump_dir = sys.argv[1], sys.argv[2]
truth = json.load(open(os.path.join(dump_dir, "dump_app.truth.json")))
default_wine = {"x64": "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows",
                "x86": "/usr/lib/i386-linux-gnu/wine/i386-windows"}[truth["arch"]]
wine = sys.argv[3] if len(sys.argv) > 3 else default_wine
tids = {t["tid"]: t for t in truth["threads"]}
# Every code symbol's start, from the linker map: " 0001:00000340  level3  0000000140001340  dump_app.obj".
starts = sorted(int(m.group(1), 16) for m in
                re.finditer(r"^ 0001:[0-9a-f]+\s+\S+\s+([0-9a-f]{8,16})\s", open(os.path.join(dump_dir, "dump_app.map")).read(), re.M))
image_end = int(truth["image_base"], 16) + 0x100000

def holder(pc):
    """The start of the function of dump_app holding pc, or None."""
    if not starts or pc < starts[0] or pc >= image_end:
        return None
    lo, hi = 0, len(starts)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if starts[mid] <= pc:
            lo = mid
        else:
            hi = mid
    return starts[lo]
# dump_app.exe without its PDB, for the runs without symbols.
no_pdb_dir = tempfile.mkdtemp()
shutil.copy(os.path.join(dump_dir, "dump_app.exe"), no_pdb_dir)

def lldb_walk(dump, exe_dir):
    cmd = ["lldb-16", "-b"]
    if exe_dir:
        cmd += ["-O", f"settings set target.exec-search-paths {wine} {os.path.abspath(exe_dir)}"]
    cmd += ["-c", dump, "-o", "thread list", "-o", "bt all"]
    start = time.time()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
    secs = time.time() - start
    # "thread list" gives each index's tid; "bt all" the frames.
    index_tid = {int(m.group(1)): int(m.group(2), 16) for m in re.finditer(r"thread #(\d+): tid = (0x[0-9a-f]+)", out)}
    walks, current = {}, None
    bt = out[out.find("(lldb) bt all"):]
    for line in bt.splitlines():
        m = re.match(r"\W*thread #(\d+)", line)
        if m:
            current = index_tid.get(int(m.group(1)))
            walks[current] = []
            continue
        m = re.match(r"\W*frame #(\d+): (0x[0-9a-f]+)", line)
        if m and current is not None:
            pc = int(m.group(2), 16)
            walks[current].append(pc if m.group(1) == "0" else pc - 1)
    return walks, secs

def sb_walk(dump, pdb):
    start = time.time()
    cmd = [sb, "stack", "--json", "--modules", wine] + ([] if pdb else ["--no-pdb"]) + [dump]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    secs = time.time() - start
    j = json.loads(out)
    return {t["tid"]: [f["pc"] if f["index"] == 0 else f["pc"] - 1 for f in t["frames"]] for t in j["threads"]}, secs

def right(walk, t):
    ours = [h for h in (holder(pc) for pc in walk) if h is not None]
    want = [int(f["address"], 16) for f in t["frames"]]
    n = 0
    for a, b in zip(ours, want):
        if a != b:
            break
        n += 1
    return n

for kind in ("normal", "full"):
    dump = os.path.join(dump_dir, f"dump_app.{kind}.dmp")
    tools = [("lldb-16 (no module files)",) + lldb_walk(dump, None),
             ("lldb-16 (modules, no PDB)",) + lldb_walk(dump, no_pdb_dir),
             ("lldb-16 (modules + PDB)",) + lldb_walk(dump, dump_dir),
             ("switchboard (no PDB)",) + sb_walk(dump, False),
             ("switchboard (PDB)",) + sb_walk(dump, True)]
    print(f"\n{kind} dump: frames walked / truth frames right, per thread")
    print("| thread | truth frames | " + " | ".join(t[0] for t in tools) + " |")
    print("|---|---|" + "---|" * len(tools))
    totals = [0] * len(tools)
    for tid, t in tids.items():
        cells = []
        for i, (_, walks, _) in enumerate(tools):
            w = walks.get(tid, [])
            r = right(w, t)
            totals[i] += r
            cells.append(f"{len(w)} / {r}")
        print(f"| {t['role']} | {len(t['frames'])} | " + " | ".join(cells) + " |")
    print(f"| all | {sum(len(t['frames']) for t in tids.values())} | " + " | ".join(str(x) for x in totals) + " |")
    print("wall: " + ", ".join(f"{name} {secs:.2f} s" for name, _, secs in tools))
shutil.rmtree(no_pdb_dir)
