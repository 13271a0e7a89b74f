#!/usr/bin/env python3
"""switchboard `stack` side by side with lldb-16 on the dump_app dumps.

  bench/stack_peer.py SWITCHBOARD DUMP_DIR [WINE_DLL_DIR]

For each dump (normal, full) and each tool (lldb with and without the module
search path; switchboard with the module directory), per thread: frames
walked, and how many of the truth's frames (dump_app.truth.json: our
functions, innermost first) the walk names in order. Wall times too.
"""
import json, os, re, subprocess, sys, time

sb, dump_dir = sys.argv[1], sys.argv[2]
wine = sys.argv[3] if len(sys.argv) > 3 else "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows"
truth = json.load(open(os.path.join(dump_dir, "dump_app.truth.json")))
tids = {t["tid"]: t for t in truth["threads"]}

def lldb_walk(dump, search):
    cmd = ["lldb-16", "-b"]
    if search:
        cmd += ["-O", f"settings set target.exec-search-paths {wine} {os.path.abspath(dump_dir)}"]
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
        m = re.match(r"\W*frame #\d+: (0x[0-9a-f]+)(?: (\S+?)`([A-Za-z_][\w:$.]*))?", line)
        if m and current is not None:
            walks[current].append((m.group(2) or "", m.group(3) or ""))
    return walks, secs

def sb_walk(dump):
    start = time.time()
    out = subprocess.run([sb, "stack", "--json", "--modules", wine, dump], capture_output=True, text=True).stdout
    secs = time.time() - start
    j = json.loads(out)
    return {t["tid"]: [((f["module"] or "") + ".exe" if f["module"] == "dump_app" else f["module"] or "",
                        f["function"] or "") for f in t["frames"]] for t in j["threads"]}, secs

def right(walk, t):
    ours = [fn for mod, fn in walk if mod.startswith("dump_app")]
    want = [f["function"] for f in t["frames"]]
    n = 0
    for a, b in zip(ours, want):
        if a != b:
            break
        n += 1
    return n

for kind in ("normal", "full"):
    dump = os.path.join(dump_dir, f"dump_app.{kind}.dmp")
    tools = [("lldb-16 (no module files)",) + lldb_walk(dump, False),
             ("lldb-16 (module files)",) + lldb_walk(dump, True),
             ("switchboard",) + sb_walk(dump)]
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
