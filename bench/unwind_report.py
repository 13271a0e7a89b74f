#!/usr/bin/env python3
"""Summarizes `switchboard unwind --json` documents read from stdin."""
import collections
import json
import sys

text = sys.stdin.read()
decoder = json.JSONDecoder()
docs, i = [], 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    doc, i = decoder.raw_decode(text, i)
    docs.append(doc)

total = collections.Counter()
handlers = collections.Counter()
print("%-58s %8s %8s %8s %9s  %s" % ("file", "entries", "chained", "disagree", "decode s", "handlers"))
for d in docs:
    if d["entries"] == 0:
        continue
    name = d["file"].split("corpus/")[-1]
    mismatches = len(d["prolog_mismatches"])
    total.update(files=1, entries=d["entries"], chained=d["chained"], mismatches=mismatches,
                 warnings=len(d["warnings"]))
    handlers.update(d["handlers"])
    # Wine's modules are many and alike: list those with handlers or disagreements.
    if name.startswith("wine-x64/") and not mismatches and not d["handlers"]:
        continue
    h = ", ".join("%s %d" % kv for kv in sorted(d["handlers"].items()))
    print("%-58s %8d %8d %8d %9.3f  %s" % (name, d["entries"], d["chained"], mismatches, d["decode_seconds"], h))
print("TOTAL %d files: %d entries, %d chained, %d prolog disagreements, %d decode warnings"
      % (total["files"], total["entries"], total["chained"], total["mismatches"], total["warnings"]))
print("handlers: " + ", ".join("%s %d" % kv for kv in handlers.most_common()))
