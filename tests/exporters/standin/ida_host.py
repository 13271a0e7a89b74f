"""The IDA Pro 9 database behind the stand-in's ida_* modules and idc.

It answers as IDA does where the script depends on it: get_func finds the
function a chunk belongs to, set_name refuses a name IDA would refuse (not
its identifier characters, too long, or held by another address: no
SN_FORCE), a name a script sets is a user name (has_user_name), add_cref /
add_dref keep one reference per (from, to), put_bookmark fills a slot.
"""
import bisect
import hashlib
import re

api = None     # the stand-in's Api (set by standin.py)
state = None

FF_NAME = 0x4000          # bytes.hpp: has a name that is not a dummy one
MAX_SLOT = 1024           # moves.hpp: MAX_MARK_SLOT
BADADDR = 0xffffffffffffffff
IDENT = re.compile(r"^[A-Za-z_$?@][A-Za-z0-9_$?@]*$")
DECL = re.compile(r"(struct|enum) ([A-Za-z_][A-Za-z0-9_]*) \{[^{}]*\};")


class State(object):
    def __init__(self, data, image_base):
        self.sha256 = hashlib.sha256(data).digest()
        self.image_base = image_base
        self.functions = {}     # entry -> list of [start, end) tails
        self.tails = []         # sorted [start, end, entry] of every tail
        self.names = {}         # ea -> [name, user]
        self.holders = {}       # name -> ea
        self.comments = {}      # (ea, repeatable) -> text
        self.xrefs = {}         # (from, to) -> ["code"|"data", type]
        self.types = {}         # name -> declaration
        self.bookmarks = {}     # slot -> [ea, description]
        self.rejected = []      # what IDA would have refused


def seed_user_name(s, ea, name):
    s.names[ea] = [name, True]
    s.holders[name] = ea


def snapshot(s):
    return {
        "functions": dict(("%d" % ea, sorted(tails)) for ea, tails in s.functions.items()),
        "names": dict(("%d" % ea, v) for ea, v in s.names.items()),
        "comments": dict(("%d/%d" % k, v) for k, v in s.comments.items()),
        "xrefs": dict(("%d>%d" % k, v) for k, v in s.xrefs.items()),
        "types": s.types,
        "bookmarks": dict(("%d" % k, v) for k, v in s.bookmarks.items()),
        "rejected": s.rejected,
    }


def func_t(entry):
    return api.obj("ida_funcs.func_t", entry, {"func": entry})


def owner_of(s, ea):
    if ea in s.functions:
        return ea
    i = bisect.bisect_right(s.tails, [ea, float("inf"), 0])
    if i and s.tails[i - 1][0] <= ea < s.tails[i - 1][1]:
        return s.tails[i - 1][2]
    return None


def get_func(s, this, ea):
    entry = owner_of(s, ea)
    return None if entry is None else func_t(entry)


def add_func(s, this, ea, end=BADADDR):
    if owner_of(s, ea) is not None:
        return False
    s.functions[ea] = []
    return True


def del_func(s, this, ea):
    if ea not in s.functions:
        return False
    for tail in s.functions.pop(ea):
        s.tails.remove([tail[0], tail[1], ea])
    return True


def seed_function(s, ea):
    """A function IDA's own analysis made (from a .pdata entry, say)."""
    s.functions.setdefault(ea, [])


def append_func_tail(s, this, f, start, end):
    if not isinstance(f, type(func_t(0))) or start >= end or owner_of(s, start) is not None:
        s.rejected.append(["append_func_tail", start, end])
        return False
    s.functions[f._payload].append([start, end])
    bisect.insort(s.tails, [start, end, f._payload])
    return True


def set_name(s, this, ea, name, flags=0):
    holder = s.holders.get(name)
    if not IDENT.match(name) or len(name) >= 512 or (holder is not None and holder != ea):
        s.rejected.append(["set_name", ea, name])
        return False
    if ea in s.names:
        s.holders.pop(s.names[ea][0], None)
    s.names[ea] = [name, True]
    s.holders[name] = ea
    return True


def get_name(s, this, ea, flags=0):
    return s.names.get(ea, ["", False])[0]


def get_flags(s, this, ea):
    return FF_NAME if s.names.get(ea, ["", False])[1] else 0


def get_cmt(s, this, ea, repeatable):
    return s.comments.get((ea, boolean(s, "get_cmt", repeatable)))


def set_cmt(s, this, ea, text, repeatable):
    s.comments[(ea, boolean(s, "set_cmt", repeatable))] = text
    return True


def boolean(s, what, value):
    """A C++ bool parameter: the SWIG wrapper wants a Python bool."""
    if not isinstance(value, bool):
        s.rejected.append([what, "not a bool", repr(value)])
    return 1 if value else 0


def add_ref(kind):
    def add(s, this, frm, to, type_):
        s.xrefs[(frm, to)] = [kind, type_]
        return True
    return add


def parse_decls(s, this, text, flags=0):
    found = DECL.findall(text)
    rest = DECL.sub("", text).strip()
    for match in DECL.finditer(text):
        s.types[match.group(2)] = match.group(0)
    return (1 if rest else 0) + (0 if found or not text.strip() else 1)


def get_bookmark(s, this, slot):
    return s.bookmarks.get(slot, [BADADDR, None])[0]


def get_bookmark_desc(s, this, slot):
    return s.bookmarks.get(slot, [BADADDR, None])[1]


def put_bookmark(s, this, ea, lnnum, x, y, slot, comment):
    if not 1 <= slot <= MAX_SLOT:
        s.rejected.append(["put_bookmark", ea, slot])
        return
    s.bookmarks[slot] = [ea, comment]


BEHAVIOUR = {
    "ida_nalt.retrieve_input_file_sha256": lambda s, this: s.sha256,
    "ida_nalt.get_imagebase": lambda s, this: s.image_base,
    "ida_funcs.get_func": get_func,
    "ida_funcs.get_fchunk": get_func,
    "ida_funcs.add_func": add_func,
    "ida_funcs.append_func_tail": append_func_tail,
    "ida_funcs.del_func": del_func,
    "ida_bytes.get_flags": get_flags,
    "ida_bytes.has_user_name": lambda s, this, flags: (flags & FF_NAME) != 0,
    "ida_bytes.get_cmt": get_cmt,
    "ida_bytes.set_cmt": set_cmt,
    "ida_name.get_name": get_name,
    "ida_name.set_name": set_name,
    "ida_xref.add_cref": add_ref("code"),
    "ida_xref.add_dref": add_ref("data"),
    "idc.parse_decls": parse_decls,
    "idc.get_bookmark": get_bookmark,
    "idc.get_bookmark_desc": get_bookmark_desc,
    "idc.put_bookmark": put_bookmark,
    "ida_auto.auto_wait": lambda s, this: True,
    "ida_kernwin.refresh_idaview_anyway": lambda s, this: None,
}

ATTRS = {
    "ida_funcs.func_t.start_ea": lambda s, f: f._payload,
}


def environment(api_):
    names = ["ida_nalt", "ida_funcs", "ida_bytes", "ida_name", "ida_xref", "idc", "ida_auto", "ida_kernwin"]
    return dict((n, api_.module(n)) for n in names), {}
