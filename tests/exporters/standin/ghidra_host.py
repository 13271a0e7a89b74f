"""The Ghidra 11 program behind the stand-in's FlatProgramAPI globals,
currentProgram and Java classes.

It answers as Ghidra does where the script depends on it: a function's
symbol is the primary one at its entry, SymbolUtilities.validateName refuses
blanks, control characters, more than 2000 characters and dynamic label
names ("FUN_00401000"), a namespace is found by name in its parent
(functions are namespaces too), createNameSpace refuses a duplicate, a
reference is kept per (from, to, operand), addDataType with the REPLACE
handler replaces, a bookmark is one per (address, category).
"""
import hashlib
import re

api = None
state = None

FLAT = "ghidra.program.flatapi.FlatProgramAPI"
DYNAMIC = re.compile(r"^(FUN|LAB|SUB|DAT|UNK|EXT|OFF)_[0-9A-Fa-f]+$")


class State(object):
    def __init__(self, data, image_base):
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.image_base = image_base
        self.functions = {}    # entry -> {"name", "ns": path, "source"}
        self.by_name = {}      # (namespace path, name) -> entries of functions so named
        self.labels = {}       # addr -> [{"name", "ns", "source", "primary"}]
        self.namespaces = {}   # path (tuple) -> source
        self.comments = {}     # (addr, "pre"|"eol") -> text
        self.refs = {}         # (from, to, op) -> [type, source]
        self.types = {}        # "/category/name" -> description
        self.bookmarks = {}    # (addr, category) -> note
        self.rejected = []


def seed_user_name(s, addr, name):
    s.labels[addr] = [{"name": name, "ns": [], "source": "SourceType.USER_DEFINED", "primary": True}]


def snapshot(s):
    return {
        "functions": dict(("%d" % a, f) for a, f in s.functions.items()),
        "labels": dict(("%d" % a, v) for a, v in s.labels.items()),
        "namespaces": dict(("::".join(p), v) for p, v in s.namespaces.items()),
        "comments": dict(("%d/%s" % k, v) for k, v in s.comments.items()),
        "refs": dict(("%d>%d/%d" % k, v) for k, v in s.refs.items()),
        "types": s.types,
        "bookmarks": dict(("%d/%s" % k, v) for k, v in s.bookmarks.items()),
        "rejected": s.rejected,
    }


def valid(s, what, name):
    ok = (isinstance(name, str) and 0 < len(name) <= 2000 and not DYNAMIC.match(name) and
          not any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7f for c in name))
    if not ok:
        s.rejected.append([what, name])
    return ok


def address(n):
    return api.obj("ghidra.program.model.address.Address", n, {"addr": n})


def namespace(path):
    return api.obj("ghidra.program.model.symbol.Namespace", tuple(path), {"ns": "::".join(path)})


def function(entry):
    return api.obj("ghidra.program.model.listing.Function", entry, {"function": entry})


def symbol(kind, addr, record):
    return api.obj("ghidra.program.model.symbol.Symbol", (kind, addr, record),
                   {"symbol": addr, "name": record["name"], "ns": "::".join(record["ns"])})


def source_name(source):
    return source._json if hasattr(source, "_json") else str(source)


def full_name(record):
    return "::".join(list(record["ns"]) + [record["name"]])


def primary_symbol(s, addr):
    if addr in s.functions:
        return symbol("function", addr, s.functions[addr])
    for record in s.labels.get(addr, []):
        if record["primary"]:
            return symbol("label", addr, record)
    return None


def get_symbol_at(s, this, addr, name=None, ns=None):
    a = addr._payload
    if name is None:
        return primary_symbol(s, a)
    path = list(ns._payload) if ns is not None else []
    f = s.functions.get(a)
    if f is not None and f["name"] == name and f["ns"] == path:
        return symbol("function", a, f)
    for record in s.labels.get(a, []):
        if record["name"] == name and (ns is None or record["ns"] == path):
            return symbol("label", a, record)
    return None


def get_source(s, this):
    """The SourceType constant (DEFAULT, which the list does not name, as its text)."""
    source = this._payload[2]["source"]
    if source == "SourceType.DEFAULT":
        return source
    return api.const("ghidra.program.model.symbol.SourceType", source.split(".")[1])


def create_function(s, this, addr, name):
    """Without a name, the function takes the primary label's (Ghidra does)."""
    a = addr._payload
    if a in s.functions:
        return None
    record = {"name": name if name else "FUN_%08x" % a, "ns": [], "source": "SourceType.DEFAULT"}
    primary = [label for label in s.labels.get(a, []) if label["primary"]]
    if not name and primary:
        record = dict((k, primary[0][k]) for k in ("name", "ns", "source"))
        s.labels[a].remove(primary[0])
    s.functions[a] = record
    rename(s, a)
    return function(a)


def create_label(s, this, addr, name, *rest):
    ns, primary, source = (rest[0], rest[1], rest[2]) if len(rest) == 3 else (None, rest[0], None)
    if len(rest) not in (1, 3) or not valid(s, "createLabel", name):
        return None
    a = addr._payload
    path = list(ns._payload) if ns is not None else []
    labels = s.labels.setdefault(a, [])
    for record in labels:
        if primary:
            record["primary"] = False
    labels.append({"name": name, "ns": path, "source": source_name(source), "primary": bool(primary)})
    return symbol("label", a, labels[-1])


def get_namespace(s, this, name, parent):
    path = tuple(parent._payload) + (name,)
    if path in s.namespaces or s.by_name.get((tuple(parent._payload), name)):
        return namespace(path)
    return None


def rename(s, entry, name=None, ns=None):
    """A function's name or namespace changes: the index follows."""
    f = s.functions[entry]
    s.by_name.get((tuple(f["ns"]), f["name"]), set()).discard(entry)
    if name is not None:
        f["name"] = name
    if ns is not None:
        f["ns"] = ns
    s.by_name.setdefault((tuple(f["ns"]), f["name"]), set()).add(entry)


def create_namespace(s, this, parent, name, source):
    path = tuple(parent._payload) + (name,)
    if not valid(s, "createNameSpace", name) or path in s.namespaces:
        s.rejected.append(["createNameSpace duplicate", list(path)])
        raise RuntimeError("DuplicateNameException: " + "::".join(path))
    s.namespaces[path] = source_name(source)
    return namespace(path)


def set_function_name(s, this, name, source):
    if valid(s, "Function.setName", name):
        rename(s, this._payload, name=name)
        s.functions[this._payload]["source"] = source_name(source)


def set_parent_namespace(s, this, ns):
    rename(s, this._payload, ns=list(ns._payload))


def comment(kind, write):
    def get(s, this, addr):
        return s.comments.get((addr._payload, kind))

    def put(s, this, addr, text):
        s.comments[(addr._payload, kind)] = text
        return True
    return put if write else get


def add_reference(s, this, frm, to, ref_type, source, op):
    s.refs[(frm._payload, to._payload, op)] = [source_name(ref_type), source_name(source)]
    return api.obj("ghidra.program.model.symbol.Reference", None)


def get_reference(s, this, frm, to, op):
    if (frm._payload, to._payload, op) in s.refs:
        return api.obj("ghidra.program.model.symbol.Reference", None)
    return None


def data_type_name(dt):
    return dt._json if isinstance(dt._json, str) else dt._json.get("type", "?")


def new_structure(s, this, *args):
    category, name, size = (args[0]._payload, args[1], args[2]) if len(args) >= 3 else ("/", args[0], args[1])
    payload = {"kind": "struct", "category": category, "name": name, "size": size, "fields": {}}
    return api.obj("ghidra.program.model.data.StructureDataType", payload, {"type": name})


def replace_at_offset(s, this, offset, dt, length, name, comment_):
    fields = this._payload["fields"]
    if offset < 0 or offset + length > this._payload["size"]:
        s.rejected.append(["replaceAtOffset", this._payload["name"], offset, length])
        raise RuntimeError("IndexOutOfBoundsException")
    fields["%d" % offset] = [length, name, data_type_name(dt)]


def new_enum(s, this, *args):
    category, name, size = (args[0]._payload, args[1], args[2]) if len(args) >= 3 else ("/", args[0], args[1])
    payload = {"kind": "enum", "category": category, "name": name, "size": size, "values": {}}
    return api.obj("ghidra.program.model.data.EnumDataType", payload, {"type": name})


def enum_add(s, this, name, value, comment_=None):
    if name in this._payload["values"]:
        raise RuntimeError("IllegalArgumentException: duplicate enum name " + name)
    this._payload["values"][name] = value


def add_data_type(s, this, dt, handler):
    payload = dt._payload
    key = payload["category"].rstrip("/") + "/" + payload["name"]
    s.types[key] = dict((k, v) for k, v in payload.items() if k not in ("category", "name"))
    return dt


def create_bookmark(s, this, addr, category, note):
    s.bookmarks[(addr._payload, category)] = note
    return api.obj("ghidra.program.model.listing.Bookmark", None)


BEHAVIOUR = {
    FLAT + ".toAddr": lambda s, this, n: address(n),
    FLAT + ".getFunctionAt": lambda s, this, a: function(a._payload) if a._payload in s.functions else None,
    FLAT + ".createFunction": create_function,
    FLAT + ".getSymbolAt": get_symbol_at,
    FLAT + ".createLabel": create_label,
    FLAT + ".getPreComment": comment("pre", False),
    FLAT + ".setPreComment": comment("pre", True),
    FLAT + ".getEOLComment": comment("eol", False),
    FLAT + ".setEOLComment": comment("eol", True),
    FLAT + ".createBookmark": create_bookmark,
    "ghidra.program.model.listing.Program.getExecutableSHA256": lambda s, this: s.sha256,
    "ghidra.program.model.listing.Program.getImageBase": lambda s, this: address(s.image_base),
    "ghidra.program.model.listing.Program.getGlobalNamespace": lambda s, this: namespace(()),
    "ghidra.program.model.listing.Program.getSymbolTable":
        lambda s, this: api.obj("ghidra.program.model.symbol.SymbolTable", None),
    "ghidra.program.model.listing.Program.getReferenceManager":
        lambda s, this: api.obj("ghidra.program.model.symbol.ReferenceManager", None),
    "ghidra.program.model.listing.Program.getDataTypeManager":
        lambda s, this: api.obj("ghidra.program.model.data.DataTypeManager", None),
    "ghidra.program.model.address.Address.getOffset": lambda s, this: this._payload,
    "ghidra.program.model.symbol.SymbolTable.getNamespace": get_namespace,
    "ghidra.program.model.symbol.SymbolTable.createNameSpace": create_namespace,
    "ghidra.program.model.symbol.Symbol.getName":
        lambda s, this, include_namespace=False: full_name(this._payload[2]) if include_namespace
        else this._payload[2]["name"],
    "ghidra.program.model.symbol.Symbol.getSource": get_source,
    "ghidra.program.model.listing.Function.setName": set_function_name,
    "ghidra.program.model.listing.Function.setParentNamespace": set_parent_namespace,
    "ghidra.program.model.symbol.ReferenceManager.getReference": get_reference,
    "ghidra.program.model.symbol.ReferenceManager.addMemoryReference": add_reference,
    "ghidra.program.model.data.DataTypeManager.addDataType": add_data_type,
    "ghidra.program.model.data.StructureDataType.new": new_structure,
    "ghidra.program.model.data.StructureDataType.replaceAtOffset": replace_at_offset,
    "ghidra.program.model.data.EnumDataType.new": new_enum,
    "ghidra.program.model.data.EnumDataType.add": enum_add,
    "ghidra.program.model.data.CategoryPath.new":
        lambda s, this, path, *rest: api.obj("ghidra.program.model.data.CategoryPath", path, {"category": path}),
    "ghidra.program.model.data.ArrayDataType.new":
        lambda s, this, dt, n, *rest: api.obj("ghidra.program.model.data.ArrayDataType", None,
                                              {"type": "%s[%d]" % (data_type_name(dt), n)}),
}

ATTRS = {}


def environment(api_):
    packages = {}
    for owner, _ in api_.sigs:
        package = owner.rsplit(".", 1)[0]
        parts = package.split(".")
        for i in range(1, len(parts) + 1):
            name = ".".join(parts[:i])
            if name not in packages:
                packages[name] = api_.module(name)
    flat = dict((name, api_.function(FLAT, name)) for (owner, name), sig in api_.sigs.items() if owner == FLAT)
    flat["currentProgram"] = api_.obj("ghidra.program.model.listing.Program", None, {"program": True})
    return packages, flat
