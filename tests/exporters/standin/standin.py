#!/usr/bin/env python3
"""A recording stand-in for IDA Pro 9, Ghidra 11 and Binary Ninja 4.

It runs a script `switchboard export --to ida|ghidra|binja` wrote against
fake APIs BUILT FROM the signature list (data/exporters/*.sigs): a module,
class or object has exactly the functions, constants and attributes the
list names, and a call with an argument count outside the list's range
raises. Behind the surface a small model of the tool's database (one per
tool: ida_host, ghidra_host, binja_host) answers the calls, so the script's
"is it there already?" questions get the answers a second run would get.

Every call is recorded; the output (JSON) holds, per run, the calls, how
many of them change the database, what the script printed, an error if it
raised, and the database after the run.

  standin.py --tool ida --sigs ida9.sigs --input FILE --image-base 0x140000000
             [--runs 2] [--user-name 0x140001000=mine] [--py2] SCRIPT OUT.json
"""
import argparse
import ast
import contextlib
import io
import json
import os
import sys
import traceback
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree


class Sig(object):
    def __init__(self, owner, name, kind, low=0, high=0, effect="read", value=None):
        self.owner, self.name, self.kind = owner, name, kind
        self.low, self.high, self.effect, self.value = low, high, effect, value


def load_sigs(path):
    """OWNER NAME MIN MAX EFFECT | OWNER NAME = VALUE | OWNER NAME attr; # comments."""
    sigs = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            where = "%s:%d" % (path, number)
            if len(words) == 5 and words[4] in ("read", "write", "ui"):
                sig = Sig(words[0], words[1], "call", int(words[2]), int(words[3]), words[4])
            elif len(words) == 4 and words[2] == "=":
                value = words[3]
                sig = Sig(words[0], words[1], "const", value=int(value, 0) if value[0].isdigit() else value)
            elif len(words) == 3 and words[2] == "attr":
                sig = Sig(words[0], words[1], "attr")
            else:
                raise SystemExit("%s: not a signature line: %s" % (where, line.strip()))
            if (sig.owner, sig.name) in sigs:
                raise SystemExit("%s: %s.%s listed twice" % (where, sig.owner, sig.name))
            sigs[(sig.owner, sig.name)] = sig
    return sigs


class NotInSignatureList(AttributeError):
    pass


def jsonable(value):
    if isinstance(value, Obj):
        return value._json
    if isinstance(value, Const):
        return value._json
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return {"bytes": len(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return {"python": type(value).__name__}


class Const(object):
    """A constant the list names without a number (an enum value, a singleton)."""

    def __init__(self, text):
        self._json = text

    def __repr__(self):
        return self._json


class Api(object):
    """The fake surface: every function, constant and attribute from the list."""

    def __init__(self, sigs, host):
        self.sigs, self.host = sigs, host
        self.calls, self.writes, self.used = [], 0, set()
        self.consts = {}

    def const(self, owner, name):
        sig = self.sigs.get((owner, name))
        if sig is None or sig.kind != "const":
            raise NotInSignatureList("%s.%s is not a constant in the signature list" % (owner, name))
        key = (owner, name)
        if key not in self.consts:
            self.consts[key] = sig.value if isinstance(sig.value, int) else Const(sig.value)
        self.used.add("%s.%s" % key)
        return self.consts[key]

    def module_const(self, owner, name):
        if name.startswith("__"):   # the import machinery's questions (__path__, __spec__)
            raise AttributeError(name)
        return self.const(owner, name)

    def call(self, owner, name, this, args, kwargs):
        sig = self.sigs.get((owner, name))
        qualified = "%s.%s" % (owner, name)
        if sig is None or sig.kind != "call":
            raise NotInSignatureList("%s is not a function in the signature list" % qualified)
        count = len(args) + len(kwargs)
        if not sig.low <= count <= sig.high:
            raise TypeError("%s takes %d..%d arguments, got %d" % (qualified, sig.low, sig.high, count))
        record = {"api": qualified, "args": jsonable(list(args))}
        if kwargs:
            record["kwargs"] = dict((k, jsonable(v)) for k, v in kwargs.items())
        if this is not None:
            record["self"] = jsonable(this)
        self.calls.append(record)
        self.used.add(qualified)
        if sig.effect == "write":
            self.writes += 1
        behaviour = self.host.BEHAVIOUR.get(qualified)
        if behaviour is None:
            raise SystemExit("stand-in: no behaviour for %s" % qualified)
        return behaviour(self.host.state, this, *args, **kwargs)

    def attr(self, owner, name, obj):
        sig = self.sigs.get((owner, name))
        if sig is None or sig.kind != "attr":
            raise NotInSignatureList("%s.%s is not an attribute in the signature list" % (owner, name))
        self.used.add("%s.%s" % (owner, name))
        return self.host.ATTRS["%s.%s" % (owner, name)](self.host.state, obj)

    def kind(self, owner, name):
        sig = self.sigs.get((owner, name))
        return sig.kind if sig else None

    def function(self, owner, name, this=None):
        if self.kind(owner, name) != "call":
            raise NotInSignatureList("%s.%s is not a function in the signature list" % (owner, name))
        return lambda *args, **kwargs: self.call(owner, name, this, args, kwargs)

    def obj(self, owner, payload, as_json=None):
        return Obj(self, owner, payload, as_json)

    def module(self, name):
        """A module with the functions and constants the list gives owner `name`,
        and a class object for each owner `name.Class`."""
        module = types.ModuleType(name)
        for (owner, member), sig in self.sigs.items():
            if owner == name and sig.kind == "call":
                setattr(module, member, self.function(owner, member))
        # Constants through the module's __getattr__ (PEP 562): read, they count as used.
        module.__getattr__ = lambda member: self.module_const(name, member)
        for owner in set(o for (o, _) in self.sigs):
            if owner.rsplit(".", 1)[0] == name and owner != name:
                setattr(module, owner.rsplit(".", 1)[1], ClassProxy(self, owner))
        return module


class ClassProxy(object):
    """A class: calling it is its `new`; its attributes are its constants."""

    def __init__(self, api, owner):
        self._api, self._owner = api, owner

    def __call__(self, *args, **kwargs):
        return self._api.call(self._owner, "new", None, args, kwargs)

    def __getattr__(self, name):
        return self._api.const(self._owner, name)


class Obj(object):
    """An object an API returned: exactly its owner's listed methods and attributes."""

    def __init__(self, api, owner, payload, as_json=None):
        self._api, self._owner, self._payload = api, owner, payload
        self._json = as_json if as_json is not None else {"class": owner}

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        kind = self._api.kind(self._owner, name)
        if kind == "call":
            return self._api.function(self._owner, name, self)
        if kind == "attr":
            return self._api.attr(self._owner, name, self)
        raise NotInSignatureList("%s.%s is not in the signature list" % (self._owner, name))

    def __repr__(self):
        return "<%s %s>" % (self._owner, json.dumps(self._json))


# Syntax Jython 2.7 cannot read (the Ghidra script must avoid it).
PY3_ONLY = {
    "JoinedStr": "an f-string", "Nonlocal": "nonlocal", "AnnAssign": "an annotated assignment",
    "AsyncFunctionDef": "async def", "Await": "await", "AsyncFor": "async for", "AsyncWith": "async with",
    "NamedExpr": "the := operator", "YieldFrom": "yield from", "MatMult": "the @ operator",
}


def python2_problems(source):
    problems = []
    for node in ast.walk(ast.parse(source)):
        name = type(node).__name__
        if name in PY3_ONLY:
            problems.append("line %d: %s" % (getattr(node, "lineno", 0), PY3_ONLY[name]))
        if isinstance(node, ast.arg) and node.annotation is not None:
            problems.append("line %d: an annotation" % node.lineno)
        if isinstance(node, ast.arguments) and (node.kwonlyargs or getattr(node, "posonlyargs", [])):
            problems.append("line %d: keyword-only or positional-only parameters" % node.lineno)
        if isinstance(node, ast.Starred) and isinstance(getattr(node, "ctx", None), ast.Store):
            problems.append("line %d: a starred assignment" % node.lineno)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.kind != "u" and any(
                ord(c) > 127 for c in node.value):
            problems.append("line %d: a non-ASCII str literal without u" % node.lineno)
    return problems


def run(script_path, source, api, host):
    """One run of the script; its calls, output, error and the database after it."""
    api.calls, api.writes = [], 0
    modules, script_globals = host.environment(api)
    saved = dict((name, sys.modules.get(name)) for name in modules)
    sys.modules.update(modules)
    script_globals.update({"__name__": "__main__", "__file__": script_path})
    out, error = io.StringIO(), None
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, script_path, "exec"), script_globals)
    except BaseException:   # the record says what broke; the test fails on it
        error = traceback.format_exc()
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    return {"calls": api.calls, "writes": api.writes, "output": out.getvalue(), "error": error,
            "state": host.snapshot(host.state)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tool", required=True, choices=["ida", "ghidra", "binja"])
    parser.add_argument("--sigs", required=True)
    parser.add_argument("--input", required=True, help="the file the database is of (its sha256 is the tool's)")
    parser.add_argument("--image-base", required=True, type=lambda s: int(s, 0))
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--user-name", action="append", default=[], help="ADDR=NAME: a name the user gave")
    parser.add_argument("--tool-function", action="append", default=[],
                        help="ADDR: a function the tool's own analysis made there (IDA only)")
    parser.add_argument("--py2", action="store_true", help="refuse syntax Python 2.7 (Jython) cannot read")
    parser.add_argument("script")
    parser.add_argument("out")
    args = parser.parse_args()

    with open(args.script, encoding="utf-8") as f:
        source = f.read()
    result = {"py2_problems": python2_problems(source) if args.py2 else []}
    host = __import__("%s_host" % args.tool)
    with open(args.input, "rb") as f:
        data = f.read()
    host.state = host.State(data, args.image_base)
    for item in args.user_name:
        address, name = item.split("=", 1)
        host.seed_user_name(host.state, int(address, 0), name)
    for address in args.tool_function:
        host.seed_function(host.state, int(address, 0))
    api = Api(load_sigs(args.sigs), host)
    host.api = api
    result["runs"] = [run(args.script, source, api, host) for _ in range(args.runs)]
    result["used"] = sorted(api.used)
    result["listed"] = sorted("%s.%s" % key for key, sig in api.sigs.items())
    with open(args.out, "w") as f:
        json.dump(result, f, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
