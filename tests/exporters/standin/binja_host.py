"""The Binary Ninja 4 view behind the stand-in's `bv` and `binaryninja`.

It answers as Binary Ninja does where the script depends on it: a function
holds the addresses from its start up to the next function's start or the
end of its executable section (the stand-in has no instructions; the PE's
section table says what is code), a symbol the script defines is a user symbol (not
auto), user references are sets, define_user_type replaces, add_tag adds a
tag every time it is called (Binary Ninja does), parse_type_string takes
one declaration.
"""
import bisect
import hashlib
import re
import struct

api = None
state = None

BV = "binaryninja.binaryview.BinaryView"
DECL = re.compile(r"^(struct|enum) ([A-Za-z_][A-Za-z0-9_]*) \{[^{}]*\};$")


def code_sections(data):
    """[start, end) RVAs of the PE's executable sections."""
    pe = struct.unpack_from("<I", data, 0x3c)[0]
    count, optional = struct.unpack_from("<H", data, pe + 6)[0], struct.unpack_from("<H", data, pe + 20)[0]
    out = []
    for i in range(count):
        at = pe + 24 + optional + 40 * i
        size, rva = struct.unpack_from("<II", data, at + 8)
        if struct.unpack_from("<I", data, at + 36)[0] & 0x20000000:
            out.append((rva, rva + size))
    return out


class State(object):
    def __init__(self, data, image_base):
        self.data = data
        self.image_base = image_base
        self.code = code_sections(data)
        self.functions = []        # sorted entries
        self.symbols = {}          # addr -> {"type", "name", "auto"}
        self.comments = {}         # "bv/addr" or "function/addr" -> text
        self.code_refs = set()     # (function, from, to)
        self.data_refs = set()     # (from, to)
        self.types = {}            # name -> declaration
        self.tag_types = {}        # name -> icon
        self.tags = {}             # addr -> [[type, data]]
        self.undo = []             # ids begun, committed
        self.rejected = []


def seed_user_name(s, addr, name):
    s.symbols[addr] = {"type": "SymbolType.FunctionSymbol", "name": name, "auto": False}


def snapshot(s):
    return {
        "functions": list(s.functions),
        "symbols": dict(("%d" % a, v) for a, v in s.symbols.items()),
        "comments": s.comments,
        "code_refs": sorted(list(r) for r in s.code_refs),
        "data_refs": sorted(list(r) for r in s.data_refs),
        "types": s.types,
        "tag_types": s.tag_types,
        "tags": dict(("%d" % a, v) for a, v in s.tags.items()),
        "rejected": s.rejected,
    }


def function(entry):
    return api.obj("binaryninja.function.Function", entry, {"function": entry})


def view(payload):
    return api.obj(BV, payload, {"view": payload})


def section_of(s, addr):
    for start, end in s.code:
        if s.image_base + start <= addr < s.image_base + end:
            return start
    return None


def containing(s, this, addr, plat=None):
    i = bisect.bisect_right(s.functions, addr)
    if not i or section_of(s, addr) is None or section_of(s, addr) != section_of(s, s.functions[i - 1]):
        return []
    return [function(s.functions[i - 1])]


def create_user_function(s, this, addr, plat=None):
    if addr in s.functions:
        return None
    bisect.insort(s.functions, addr)
    return function(addr)


def get_symbol_at(s, this, addr, namespace=None):
    if addr not in s.symbols:
        return None
    return api.obj("binaryninja.types.CoreSymbol", addr, {"symbol": addr})


def new_symbol(s, this, kind, addr, short_name, *rest):
    return api.obj("binaryninja.types.Symbol", {"type": kind._json, "addr": addr, "name": short_name},
                   {"symbol": addr, "name": short_name, "type": kind._json})


def define_user_symbol(s, this, sym):
    p = sym._payload
    if not p["name"] or any(ord(c) < 0x20 or ord(c) == 0x7f for c in p["name"]):
        s.rejected.append(["define_user_symbol", p["addr"], p["name"]])
        return
    s.symbols[p["addr"]] = {"type": p["type"], "name": p["name"], "auto": False}


def comment_key(this, addr):
    return "%s/%d" % ("bv" if this._owner == BV else "function %d" % this._payload, addr)


def get_comment(s, this, addr):
    return s.comments.get(comment_key(this, addr), "")


def set_comment(s, this, addr, text):
    s.comments[comment_key(this, addr)] = text


def parse_type_string(s, this, text, import_dependencies=True):
    match = DECL.match(text)
    if not match:
        s.rejected.append(["parse_type_string", text])
        raise SyntaxError("parse_type_string: not one declaration: " + text)
    return (api.obj("binaryninja.types.Type", text, {"type": match.group(2)}), match.group(2))


def define_user_type(s, this, name, type_obj):
    s.types[name] = type_obj._payload


def tag_type(name):
    return api.obj("binaryninja.binaryview.TagType", name, {"tag_type": name})


def add_tag(s, this, addr, type_name, data, user=True):
    if type_name not in s.tag_types:
        s.rejected.append(["add_tag", addr, type_name])
        return
    s.tags.setdefault(addr, []).append([type_name, data])


def get_tags_at(s, this, addr, auto=None):
    return [api.obj("binaryninja.binaryview.Tag", (t, d), {"tag": t, "data": d}) for t, d in s.tags.get(addr, [])]


def begin_undo(s, this, anonymous_allowed=True):
    s.undo.append("undo-%d" % len(s.undo))
    return s.undo[-1]


BEHAVIOUR = {
    BV + ".read": lambda s, this, addr, length: s.data[addr:addr + length] if this._payload == "raw" else b"",
    BV + ".get_function_at": lambda s, this, addr, plat=None: function(addr) if addr in s.functions else None,
    BV + ".create_user_function": create_user_function,
    BV + ".get_functions_containing": containing,
    BV + ".get_symbol_at": get_symbol_at,
    BV + ".define_user_symbol": define_user_symbol,
    BV + ".get_comment_at": get_comment,
    BV + ".set_comment_at": set_comment,
    BV + ".add_user_data_ref": lambda s, this, frm, to: s.data_refs.add((frm, to)),
    BV + ".parse_type_string": parse_type_string,
    BV + ".define_user_type": define_user_type,
    BV + ".get_tag_type": lambda s, this, name: tag_type(name) if name in s.tag_types else None,
    BV + ".create_tag_type": lambda s, this, name, icon: (s.tag_types.__setitem__(name, icon), tag_type(name))[1],
    BV + ".get_tags_at": get_tags_at,
    BV + ".add_tag": add_tag,
    BV + ".begin_undo_actions": begin_undo,
    BV + ".commit_undo_actions": lambda s, this, id=None: None,
    BV + ".update_analysis_and_wait": lambda s, this: None,
    BV + ".update_analysis": lambda s, this: None,
    "binaryninja.function.Function.get_comment_at": get_comment,
    "binaryninja.function.Function.set_comment_at": set_comment,
    "binaryninja.function.Function.add_user_code_ref":
        lambda s, this, frm, to, arch=None: s.code_refs.add((this._payload, frm, to)),
    "binaryninja.Symbol.new": new_symbol,
}

ATTRS = {
    BV + ".file": lambda s, this: api.obj("binaryninja.filemetadata.FileMetadata", None, {"file": True}),
    BV + ".image_base": lambda s, this: s.image_base,
    BV + ".length": lambda s, this: len(s.data) if this._payload == "raw" else 0,
    "binaryninja.filemetadata.FileMetadata.raw": lambda s, this: view("raw"),
    "binaryninja.types.CoreSymbol.full_name": lambda s, this: s.symbols[this._payload]["name"],
    "binaryninja.types.CoreSymbol.auto": lambda s, this: s.symbols[this._payload]["auto"],
    "binaryninja.binaryview.Tag.type": lambda s, this: tag_type(this._payload[0]),
    "binaryninja.binaryview.Tag.data": lambda s, this: this._payload[1],
    "binaryninja.binaryview.TagType.name": lambda s, this: this._payload,
}


def environment(api_):
    return {"binaryninja": api_.module("binaryninja")}, {"bv": view("main")}
