#!/usr/bin/env python3
"""COM knowledge from the SDK headers as Debian ships them (Wine's, package
libwine-dev: /usr/include/wine/wine/windows, then mingw-w64's, package
mingw-w64-common: /usr/share/mingw-w64/include, for what Wine's lack):
every GUID a header defines
(DEFINE_GUID, MIDL_INTERFACE / DECLSPEC_UUID) with its name, and every
interface's methods in vtable order (the C `<Name>Vtbl` structures): the
ones it adds to its base (the C++ declaration's `: public Base`), after the
base's. Writes data/com/com.json, which the build compiles in.

  data/com/import_com.py [HEADER_DIR...] > data/com/com.json
"""
import json
import os
import re
import sys

HEADERS = sys.argv[1:] or ["/usr/include/wine/wine/windows", "/usr/share/mingw-w64/include"]

DEFINE_GUID = re.compile(
    r"DEFINE_GUID\(\s*(\w+)\s*,\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*,"
    r"\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*,"
    r"\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*,\s*(0x[0-9a-fA-F]+)\s*\)")
MIDL_INTERFACE = re.compile(r'MIDL_INTERFACE\("([0-9a-fA-F-]{36})"\)\s*(\w+)(?:\s*:\s*public\s+(\w+))?')
CLASS_UUID = re.compile(r'class\s+DECLSPEC_UUID\("([0-9a-fA-F-]{36})"\)\s*(\w+)\s*;')
VTBL = re.compile(r"typedef struct (\w+)Vtbl \{(.*?)\} \1Vtbl;", re.S)
METHOD = re.compile(r"\(\s*STDMETHODCALLTYPE\s*\*\s*(\w+)\s*\)")


def guid_text(parts):
    d1, d2, d3 = (int(p, 16) for p in parts[:3])
    b = [int(p, 16) for p in parts[3:]]
    return "%08x-%04x-%04x-%02x%02x-%s" % (d1, d2, d3, b[0], b[1], "".join("%02x" % x for x in b[2:]))


def main():
    guids = {}        # guid -> (name, kind)
    interfaces = {}   # name -> {"iid", "methods"}
    def note(guid, name, kind):
        guid = guid.lower()
        if guid == "00000000-0000-0000-0000-000000000000":
            name, kind = "GUID_NULL", "other"
        # The first name wins; an IID_/CLSID_ one over a bare one.
        old = guids.get(guid)
        if old is None or (old[1] == "other" and kind != "other"):
            guids[guid] = (name, kind)
    files = [os.path.join(d, f) for d in HEADERS if os.path.isdir(d) for f in sorted(os.listdir(d)) if f.endswith(".h")]
    for path in files:
        text = open(path, encoding="latin-1").read()
        for m in DEFINE_GUID.finditer(text):
            name = m.group(1)
            kind = "interface" if name.startswith("IID_") else "class" if name.startswith("CLSID_") else "other"
            note(guid_text(m.groups()[1:]), name, kind)
        for m in MIDL_INTERFACE.finditer(text):
            note(m.group(1), "IID_" + m.group(2), "interface")
            i = interfaces.setdefault(m.group(2), {"iid": "", "methods": []})
            if not i["iid"]:
                i["iid"] = m.group(1).lower()
            if m.group(3) and "base" not in i:
                i["base"] = m.group(3)
        for m in CLASS_UUID.finditer(text):
            note(m.group(1), "CLSID_" + m.group(2), "class")
        for m in VTBL.finditer(text):
            methods = METHOD.findall(m.group(2))
            i = interfaces.setdefault(m.group(1), {"iid": "", "methods": []})
            if methods and not i["methods"]:
                i["methods"] = methods
    # IIDs from DEFINE_GUID(IID_X) for interfaces whose header has no MIDL_INTERFACE.
    by_name = {name: guid for guid, (name, kind) in guids.items()}
    out_ifaces = []
    for name in sorted(interfaces):
        i = interfaces[name]
        iid = i["iid"] or by_name.get("IID_" + name, "")
        if not i["methods"] or not iid:
            continue
        entry = {"name": name, "iid": iid}
        # Only the methods it adds to its base (the base's come first).
        base = interfaces.get(i.get("base", ""))
        if base and base["methods"] and i["methods"][:len(base["methods"])] == base["methods"]:
            entry["base"] = i["base"]
            entry["methods"] = i["methods"][len(base["methods"]):]
        else:
            entry["methods"] = i["methods"]
        out_ifaces.append(entry)
    out = {
        "source": "Wine 8 (libwine-dev) and mingw-w64 (mingw-w64-common) headers, data/com/import_com.py",
        "guids": [{"guid": g, "name": n, "kind": k} for g, (n, k) in sorted(guids.items())],
        "interfaces": out_ifaces,
    }
    # One entry a line: diffs stay readable.
    sys.stdout.write("{\n")
    sys.stdout.write('  "source": %s,\n' % json.dumps(out["source"]))
    sys.stdout.write('  "guids": [\n')
    sys.stdout.write(",\n".join("    " + json.dumps(g) for g in out["guids"]))
    sys.stdout.write('\n  ],\n  "interfaces": [\n')
    sys.stdout.write(",\n".join("    " + json.dumps(i) for i in out["interfaces"]))
    sys.stdout.write("\n  ]\n}\n")


if __name__ == "__main__":
    main()
