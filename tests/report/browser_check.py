#!/usr/bin/env python3
"""Opens a switchboard HTML report in headless Chromium through chromedriver
(the W3C WebDriver protocol, standard library only) and checks it against
the session's truth given as JSON (--expect): no console errors, no network
requests, the message graph holds every procedure with its cases and send
edges, searching a procedure's name finds it, clicking a node shows its
listing. Saves a screenshot and prints the load time.

Exit codes: 0 passed, 1 failed, 77 chromium or chromedriver missing."""
import argparse
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

SKIP = 77


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Driver:
    def __init__(self, chromedriver, chromium):
        self.port = free_port()
        self.proc = subprocess.Popen([chromedriver, f"--port={self.port}"], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{self.port}"
        for _ in range(100):
            try:
                self.call("GET", "/status")
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium,
                                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                                            "--disable-dev-shm-usage", "--window-size=1600,1200"]},
            "goog:loggingPrefs": {"browser": "ALL", "performance": "ALL"}}}}
        self.session = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                return json.loads(r.read().decode())["value"]
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path}: {e.read().decode()[:2000]}") from None

    def s(self, method, path, body=None):
        return self.call(method, f"/session/{self.session}{path}", body)

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script, "args": list(args)})

    def element(self, css):
        found = self.s("POST", "/element", {"using": "css selector", "value": css})
        return next(iter(found.values()))

    def quit(self):
        try:
            self.s("DELETE", "")
        finally:
            self.proc.terminate()
            self.proc.wait(timeout=20)


class Checks:
    def __init__(self):
        self.failures = []

    def check(self, ok, what):
        if not ok:
            self.failures.append(what)
            print("FAIL:", what)
        return ok


def check_graph(d, expect, c):
    """Every procedure: its node in the overview, and its own graph with one
    case node per handled message and one send edge per message edge."""
    dom = d.js("""
      const out = {overview: [...document.querySelectorAll('#overview-svg .node.procedure')].map(n => Number(n.dataset.rva)),
                   procs: []};
      for (const b of document.querySelectorAll('[data-proc-button]')) {
        b.click();
        const svg = document.getElementById('proc-svg');
        out.procs.push({rva: Number(svg.querySelector('.node.procedure').dataset.rva),
                        cases: svg.querySelectorAll('.node.case:not([data-unhandled])').length,
                        edges: [...svg.querySelectorAll('path[data-edge]')].map(p => Number(p.dataset.site)).sort((x, y) => x - y),
                        senders: svg.querySelectorAll('.node.sender').length});
      }
      return out;""")
    want = {p["rva"]: p for p in expect["procedures"]}
    c.check(sorted(dom["overview"]) == sorted(want), f"overview procedures {sorted(dom['overview'])} != {sorted(want)}")
    got = {p["rva"]: p for p in dom["procs"]}
    c.check(sorted(got) == sorted(want), "every procedure has its graph")
    for rva, p in want.items():
        g = got.get(rva)
        if not g:
            continue
        c.check(g["cases"] == p["cases"], f"{p['name']}: {g['cases']} case nodes, expected {p['cases']}")
        c.check(g["edges"] == sorted(p["send_sites"]), f"{p['name']}: send edges from {len(g['edges'])} sites, "
                f"expected {len(p['send_sites'])}")
        c.check(g["senders"] == p["senders"], f"{p['name']}: {g['senders']} sender nodes, expected {p['senders']}")
    return dom


def check_classes(d, expect, c):
    """The tree holds every class (opening every node), each with its vftables."""
    d.js("""window.__sbOpen = () => { let n = 0;
              for (const x of document.querySelectorAll('#class-tree details.class:not([open])')) { x.open = true; ++n; }
              return n; };""")
    for _ in range(64):
        time.sleep(0.05)
        if d.js("return window.__sbOpen();") == 0:
            break
    dom = dict(d.js("""return [...document.querySelectorAll('#class-tree details.class')].map(x => {
        const body = x.querySelector(':scope > .class-body');
        return [x.dataset.class, body ? body.querySelectorAll(':scope > .vftable').length : -1]; });"""))
    want = {k["name"]: k["vftables"] for k in expect["classes"]}
    c.check(sorted(dom) == sorted(want), f"class tree {sorted(dom)[:20]} != {sorted(want)[:20]}")
    for name, n in want.items():
        if name in dom:
            c.check(dom[name] == n, f"class {name}: {dom[name]} vftables shown, expected {n}")
    rows = d.js("return document.querySelectorAll('#eh-table tr[data-edge]').length;")
    c.check(rows == min(expect["eh_edges"], 500), f"{rows} exception edges shown, expected {expect['eh_edges']}")


def search_finds(d, text, rva):
    box = d.element("#search")
    d.s("POST", f"/element/{box}/clear", {})
    d.s("POST", f"/element/{box}/value", {"text": text})
    found = d.js("return [...document.querySelectorAll('#search-results li[data-result]')].map(li => Number(li.dataset.result));")
    return rva in found, found


def check_search(d, expect, c):
    p = expect["search"]
    # By address: the VA, and the RVA.
    for text in (f"{expect['image_base'] + p['rva']:#x}", f"{p['rva']:x}"):
        ok, found = search_finds(d, text, p["rva"])
        c.check(ok, f"searching {text} finds {p['rva']:#x} (found {found[:10]})")
    box = d.element("#search")
    d.s("POST", f"/element/{box}/clear", {})
    d.s("POST", f"/element/{box}/value", {"text": p["name"]})
    found = d.js("return [...document.querySelectorAll('#search-results li[data-result]')].map(li => Number(li.dataset.result));")
    c.check(p["rva"] in found, f"searching {p['name']!r} finds {p['rva']:#x} (found {found[:10]})")
    if p["rva"] in found:
        item = d.element(f"#search-results li[data-result='{p['rva']}']")
        d.s("POST", f"/element/{item}/click", {})
        shown = d.js("return Number(document.getElementById('listing').dataset.rva);")
        c.check(shown == p["rva"], f"clicking the result shows the listing of {p['rva']:#x} (shows {shown})")


def check_listing(d, expect, c):
    """Clicking a procedure node shows its listing; clicking a sender shows
    the send site with the edge's label inline."""
    if not expect["procedures"]:
        return
    proc = expect["procedures"][0]
    node = d.element(f"#overview-svg .node.procedure[data-rva='{proc['rva']}']")
    d.s("POST", f"/element/{node}/click", {})
    got = d.js("""const l = document.getElementById('listing');
                  return {rva: Number(l.dataset.rva), rows: l.querySelectorAll('.ins').length,
                          title: document.getElementById('listing-title').textContent};""")
    c.check(got["rva"] == proc["rva"] and got["rows"] > 0,
            f"clicking {proc['name']} shows its listing ({got})")
    sender = expect.get("sender")
    if not sender:
        return
    d.js("document.querySelector(`[data-proc-button='${arguments[0]}']`).click();", sender["proc_index"])
    node = d.element(f"#proc-svg .node.sender[data-rva='{sender['function']}']")
    d.s("POST", f"/element/{node}/click", {})
    got = d.js("""const f = document.querySelector('#listing .ins.focus');
                  return f ? {rva: Number(f.dataset.rva), note: (f.querySelector('.edge-note') || {}).textContent || ''} : null;""")
    labels = sender["labels"].get(str(got["rva"])) if got else None
    c.check(labels is not None and any(label in got["note"] for label in labels),
            f"clicking the sender {sender['function']:#x} shows one of its send sites {sorted(sender['labels'])} "
            f"with its label inline ({got})")


def check_edges(d, expect, c):
    got = d.js("return document.querySelectorAll('#edge-kind option').length - 1;")
    c.check(got == expect["edge_kinds"], f"{got} edge kinds to filter by, expected {expect['edge_kinds']}")
    kind, count = expect["filter_kind"]
    shown = d.js("""const k = document.getElementById('edge-kind');
                    k.value = String(arguments[0]); k.dispatchEvent(new Event('change'));
                    return [...document.querySelectorAll('#edge-table tr[data-edge]')].map(r => r.cells[0].textContent);""",
                 kind)
    c.check(len(shown) == min(count, 500) and len(set(shown)) == 1,
            f"filtering by kind {kind} shows {len(shown)} rows of kinds {sorted(set(shown))}, expected {min(count, 500)}")
    # Every row the text filter keeps names what was typed.
    name = expect["search"]["name"]
    d.js("""const k = document.getElementById('edge-kind'); k.value = ''; k.dispatchEvent(new Event('change'));
            const f = document.getElementById('edge-filter'); f.value = arguments[0]; f.dispatchEvent(new Event('input'));""",
         name)
    time.sleep(0.5)
    rows = d.js("return [...document.querySelectorAll('#edge-table tr[data-edge]')].map(r => r.textContent.toLowerCase());")
    c.check(rows and all(name.lower() in r for r in rows), f"filtering the edges by {name!r} keeps {len(rows)} rows, "
            "each naming it")


def network_requests(d, url):
    out = []
    for entry in d.s("POST", "/se/log", {"type": "performance"}):
        msg = json.loads(entry["message"])["message"]
        if msg.get("method") == "Network.requestWillBeSent":
            u = msg["params"]["request"]["url"]
            if u != url:
                out.append(u)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--html", required=True)
    ap.add_argument("--expect", required=True)
    ap.add_argument("--screenshot", required=True)
    ap.add_argument("--max-load-ms", type=float, default=0)
    args = ap.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        print("SKIP: chromium or chromedriver missing")
        return SKIP
    expect = json.load(open(args.expect))
    url = "file://" + os.path.abspath(args.html)
    d = Driver(chromedriver, chromium)
    c = Checks()
    try:
        d.s("POST", "/url", {"url": url})
        timing = d.js("""const n = performance.getEntriesByType('navigation')[0];
                         return {load: n.loadEventEnd, dom: n.domContentLoadedEventEnd,
                                 ready: document.body.dataset.ready === '1',
                                 resources: performance.getEntriesByType('resource').map(r => r.name)};""")
        print(f"load: {timing['load']:.0f} ms (DOMContentLoaded {timing['dom']:.0f} ms), "
              f"{os.path.getsize(args.html)} bytes")
        c.check(timing["ready"], "the page's script ran to its end")
        c.check(not timing["resources"], f"no resources loaded: {timing['resources']}")
        if args.max_load_ms:
            c.check(timing["load"] < args.max_load_ms, f"loads in under {args.max_load_ms:.0f} ms")
        check_graph(d, expect, c)
        check_listing(d, expect, c)
        check_classes(d, expect, c)
        check_search(d, expect, c)
        check_edges(d, expect, c)
        # The message graph, or (an image without procedures) the classes.
        d.js("document.getElementById(arguments[0]).scrollIntoView();",
             "proc-info" if expect["procedures"] else "classes")
        png = base64.b64decode(d.s("GET", "/screenshot"))
        with open(args.screenshot, "wb") as f:
            f.write(png)
        print("screenshot:", args.screenshot)
        errors = [e for e in d.s("POST", "/se/log", {"type": "browser"}) if e.get("level") == "SEVERE"]
        c.check(not errors, f"console errors: {errors}")
        net = network_requests(d, url)
        c.check(not net, f"network requests: {net}")
    finally:
        d.quit()
    print("passed" if not c.failures else f"{len(c.failures)} checks failed")
    return 0 if not c.failures else 1


if __name__ == "__main__":
    sys.exit(main())
