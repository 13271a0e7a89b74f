#!/usr/bin/env python3
"""Complete messages.json from the Windows SDK headers (as shipped by mingw-w64).

  apt-get download mingw-w64-common && dpkg -x mingw-w64-common_*.deb /tmp/mingw
  data/api/import_headers.py /tmp/mingw/usr/share/mingw-w64/include

Adds what the headers define and messages.json lacks; never changes an entry
that is there (hand-written parameters and delivery classes win):
  - control messages of the common controls and rich edit (their ids lie at or
    above WM_USER, so the system passes their parameters as numbers: delivery
    "class_private");
  - WM_NOTIFY codes (NM_, LVN_, TVN_, ... and rich edit's EN_ codes);
  - WM_COMMAND notification codes per control class (BN_, EN_, LBN_, CBN_, STN_).
A missing window message or system-range control message is only reported:
win32k marshals those, so a person has to give its delivery class.
"""
import json
import os
import re
import sys

HEADERS = ["winuser.h", "commctrl.h", "richedit.h", "commdlg.h"]

# Message name prefix -> control class, for ids at or above WM_USER.
CONTROL_PREFIXES = {
    "ACM_": "SysAnimate32", "BCM_": "Button", "CB_": "ComboBox", "CBEM_": "ComboBoxEx32",
    "CCM_": "CommonControls", "DTM_": "SysDateTimePick32", "EM_": "Edit", "HDM_": "SysHeader32",
    "HKM_": "msctls_hotkey32", "IPM_": "SysIPAddress32", "LM_": "SysLink", "LVM_": "SysListView32",
    "MCM_": "SysMonthCal32", "PBM_": "msctls_progress32", "PGM_": "SysPager", "RB_": "ReBarWindow32",
    "SB_": "msctls_statusbar32", "TB_": "ToolbarWindow32", "TBM_": "msctls_trackbar32",
    "TCM_": "SysTabControl32", "TTM_": "tooltips_class32", "TVM_": "SysTreeView32", "UDM_": "msctls_updown32",
}
RICHEDIT_CLASS = "RichEdit20W"
SYSTEM_CONTROL_PREFIXES = {"BM_": "Button", "EM_": "Edit", "LB_": "ListBox", "CB_": "ComboBox",
                           "SBM_": "ScrollBar", "STM_": "Static"}
NOTIFY_PREFIXES = ("NM_", "LVN_", "TVN_", "HDN_", "TCN_", "TBN_", "TTN_", "UDN_", "DTN_", "MCN_", "CBEN_",
                   "RBN_", "IPN_", "SBN_", "PGN_", "BCN_", "TRBN_", "CDN_")
COMMAND_PREFIXES = {"BN_": "Button", "EN_": "Edit", "LBN_": "ListBox", "CBN_": "ComboBox", "STN_": "Static"}


def read_defines(include_dir):
    defs = {}
    for header in HEADERS:
        path = os.path.join(include_dir, header)
        text = re.sub(r"\\\n", " ", open(path, encoding="latin-1").read())
        for m in re.finditer(r"^\s*#\s*define\s+([A-Z][A-Z0-9_]*)\s+(.+?)\s*(?://.*)?$", text, re.M):
            defs.setdefault(m.group(1), (m.group(2), header))
    return defs


def evaluate(defs, name, depth=0):
    """The integer a macro expands to, or None (A/W selectors, casts we do not know)."""
    if depth > 20 or name not in defs:
        return None
    expr = re.sub(r"/\*.*?\*/", "", defs[name][0]).strip()
    if "__MINGW_NAME" in expr:
        return None
    expr = re.sub(r"\b(0x[0-9A-Fa-f]+|\d+)[UuLl]+\b", r"\1", expr)
    expr = re.sub(r"\((UINT|int|DWORD|WORD|LONG|UINT_PTR)\)", "", expr)

    def substitute(m):
        value = evaluate(defs, m.group(0), depth + 1)
        if value is None:
            raise KeyError(m.group(0))
        return str(value)

    try:
        expr = re.sub(r"\b[A-Za-z_][A-Za-z0-9_]*\b", substitute, expr)
    except KeyError:
        return None
    if not re.fullmatch(r"[0-9xXa-fA-F+\-*|()<> ]+", expr):
        return None
    try:
        return eval(expr)  # arithmetic on integer literals only (checked above)
    except (SyntaxError, ZeroDivisionError):
        return None


def split_arguments(text, start):
    """The comma-separated arguments of the call whose '(' is at text[start]."""
    depth, args, current = 0, [], ""
    for ch in text[start:]:
        if ch == "(":
            depth += 1
            if depth == 1:
                continue
        elif ch == ")":
            depth -= 1
            if depth == 0:
                args.append(current.strip())
                return args
        elif ch == "," and depth == 1:
            args.append(current.strip())
            current = ""
            continue
        current += ch
    return None


def describe_parameter(expr):
    """'(LPARAM)(const LV_ITEM *)(pitem)' -> 'const LV_ITEM * pitem'; '' when unused."""
    expr = re.sub(r"\s+", " ", expr).strip()
    expr = re.sub(r"^\((WPARAM|LPARAM)\)\s*", "", expr)
    if re.fullmatch(r"\(?0L?\)?", expr):
        return ""
    m = re.fullmatch(r"\(([A-Za-z_][A-Za-z0-9_ ]*\s*\**)\)\s*\(?&?\s*([A-Za-z_][A-Za-z0-9_]*)\)?", expr)
    if m:
        return f"{m.group(1).strip()} {m.group(2)}"
    m = re.fullmatch(r"\(([A-Za-z_][A-Za-z0-9_]*)\)", expr)
    return m.group(1) if m else expr


def read_parameters(include_dir):
    """Message name -> (wParam, lParam) from the SDK's message macros
    (ListView_InsertItem(hwnd, pitem) sends LVM_INSERTITEM with 0 and pitem)."""
    params = {}
    text = re.sub(r"\\\n", " ", open(os.path.join(include_dir, "commctrl.h"), encoding="latin-1").read())
    for m in re.finditer(r"\b(?:SNDMSG|SendMessage)\s*\(", text):
        args = split_arguments(text, m.end() - 1)
        if not args or len(args) != 4 or not re.fullmatch(r"[A-Z][A-Z0-9_]*", args[1]):
            continue
        params.setdefault(args[1], (describe_parameter(args[2]), describe_parameter(args[3])))
    return params


def signed32(v):
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


def is_marker(name):
    """Range bounds (LVN_FIRST, WM_AFXLAST, ...), not messages."""
    return re.search(r"(FIRST|LAST)\d*$|_MSGMAX$", name) is not None


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    defs = read_defines(sys.argv[1])
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "messages.json")
    kb = json.load(open(path))
    window_ids = {int(m["id"], 16) for m in kb["messages"]}
    controls = kb["controls"]
    known = {cls: {m["name"] for m in lst} | {int(m["id"], 16) for m in lst} for cls, lst in controls.items()}
    notifications = {n["code"]: n for n in kb["notifications"]}
    commands = kb.setdefault("command_notifications", {})
    unclassified, added = [], 0

    def add_control(cls, name, value, delivery):
        nonlocal added
        have = known.setdefault(cls, set())
        if name in have or value in have:
            return
        controls.setdefault(cls, []).append({"id": f"0x{value:04X}", "name": name, "delivery": delivery})
        have.update({name, value})
        added += 1

    for name, (_, header) in sorted(defs.items()):
        if is_marker(name):
            continue
        value = evaluate(defs, name)
        if value is None:
            continue
        if header in ("commctrl.h", "richedit.h") and 0x400 <= value < 0x3000:
            if header == "richedit.h" and name.startswith("EM_"):
                add_control(RICHEDIT_CLASS, name, value, "class_private")
                continue
            for prefix, cls in CONTROL_PREFIXES.items():
                if name.startswith(prefix):
                    add_control(cls, name, value, "class_private")
                    break
        if header == "winuser.h" and 0 < value < 0x400:
            if name.startswith("WM_") and value not in window_ids and name not in ("WM_USER",):
                unclassified.append(f"{name} {value:#06x} (window message)")
            for prefix, cls in SYSTEM_CONTROL_PREFIXES.items():
                if name.startswith(prefix) and value >= 0xB0 and name not in known.get(cls, ()) and value not in known.get(cls, ()):
                    unclassified.append(f"{name} {value:#06x} ({cls})")
        code = signed32(value)
        if name.startswith(NOTIFY_PREFIXES) and code < 0 or (header == "richedit.h" and name.startswith("EN_") and 0x700 <= value < 0x800):
            entry = notifications.get(code)
            if entry is None:
                notifications[code] = {"code": code, "name": name}
                added += 1
            elif name not in entry["name"].split(" or "):
                entry["name"] += " or " + name    # codes shared by two controls
                added += 1
        if header == "winuser.h" and 0 <= value < 0x10000:
            for prefix, cls in COMMAND_PREFIXES.items():
                if name.startswith(prefix):
                    lst = commands.setdefault(cls, [])
                    if all(c["name"] != name for c in lst):
                        lst.append({"code": value, "name": name})
                        added += 1

    params = read_parameters(sys.argv[1])
    for cls, lst in controls.items():
        for m in lst:
            if m.get("delivery") != "class_private" or "wParam" in m or "lParam" in m:
                continue
            found = params.get(m["name"]) or (params.get(m["name"][:-1]) if m["name"][-1] in "AW" else None)
            if found:
                m["wParam"], m["lParam"] = found
                added += 1
    for cls in controls:
        controls[cls].sort(key=lambda m: (int(m["id"], 16), m["name"]))
    for cls in commands:
        commands[cls].sort(key=lambda c: (c["code"], c["name"]))
    kb["notifications"] = sorted(notifications.values(), key=lambda n: -n["code"] if n["code"] < 0 else 1 << 20 | n["code"])
    with open(path, "w") as f:
        json.dump(kb, f, indent=1)
        f.write("\n")
    print(f"added {added} entries", file=sys.stderr)
    for line in unclassified:
        print("needs a delivery class: " + line, file=sys.stderr)


if __name__ == "__main__":
    main()
