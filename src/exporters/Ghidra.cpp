// The Ghidra 11 writer: a Python script for the Script Manager that runs in
// Jython 2.7 and in PyGhidra (Python 3) alike: no f-strings, no Python-3-only
// syntax, strings as u"..." literals. Every call is in
// data/exporters/ghidra11.sigs (FlatProgramAPI, Program, SymbolTable,
// ReferenceManager, the data type classes).
//
// Functions: createFunction where none starts. Names: a C++ name is a
// namespace path and a label ("Circle::area": namespace Circle, label
// area), the namespaces made level by level (SymbolTable.getNamespace /
// createNameSpace: the parts are ours, split where the name's top-level
// `::` are); a function is renamed (Function.setName, setParentNamespace),
// any other address gets a primary label. Names from symbols are IMPORTED,
// recovered ones ANALYSIS; a USER_DEFINED symbol is the user's and is never
// replaced (the recovered name goes into a pre-comment). Comments join what
// is there (pre-comments at function and label starts, end-of-line
// comments at sites). References: COMPUTED_CALL for resolved indirect and
// virtual calls (the decompiler reads them), DATA (on the mnemonic) for the
// rest: a flow reference from a send site would pull the handler into the
// sender's body, as Ghidra's function bodies follow flow references.
// Structures and enums through the program's DataTypeManager (REPLACE
// handler: a second run replaces them with themselves); bookmarks with
// createBookmark (one per address and category: a second run replaces it).
#include "Script.h"

#include <fmt/format.h>

namespace sb::exporters {
namespace {
using script::hex;
using script::pyString;

std::string typeTables(const ExportModel &m) {
  fmt::memory_buffer b;
  auto out = std::back_inserter(b);
  const std::vector<std::string> structNames = script::structTypeNames(m), vftableNames = script::vftableTypeNames(m);
  fmt::format_to(out, "PTR_SIZE = {}\nSTRUCTS = [\n", m.is64 ? 8 : 4);
  for (size_t i = 0; i < m.structs.size(); ++i) {
    fmt::format_to(out, "({}, {}, [", pyString(structNames[i]), hex(m.structs[i].size));
    for (const ExportField &f : m.structs[i].fields)
      fmt::format_to(out, "({}, {}, {}), ", hex(f.offset), f.size, pyString(f.name));
    fmt::format_to(out, "]),\n");
  }
  fmt::format_to(out, "]\nVFTABLES = [\n");
  for (size_t i = 0; i < m.vftables.size(); ++i)
    fmt::format_to(out, "({}, {}),\n", pyString(vftableNames[i]), m.vftables[i].slots.size());
  fmt::format_to(out, "]\nENUMS = [\n");
  for (const ExportEnum &e : m.enums) {
    fmt::format_to(out, "({}, [", pyString(e.name));
    for (const ExportEnumMember &em : e.members)
      fmt::format_to(out, "({}, {}), ", pyString(script::enumMemberName(em, "")), hex(em.value));
    fmt::format_to(out, "]),\n");
  }
  fmt::format_to(out, "]\n");
  return fmt::to_string(b);
}

const char *kCode = R"PY(

def input_sha256():
    h = currentProgram.getExecutableSHA256()
    if h is None:
        return ""
    return h.lower()


def put_comment(addr, text, at_start):
    if at_start:
        old = getPreComment(addr)
        new = merged(old, text)
        if new != old:
            setPreComment(addr, new)
    else:
        old = getEOLComment(addr)
        new = merged(old, text)
        if new != old:
            setEOLComment(addr, new)


def add_functions(base):
    for rva in FUNCS:
        addr = toAddr(base + rva)
        if getFunctionAt(addr) is None:
            createFunction(addr, None)


def namespace_of(parts, symbols, cache):
    ns = currentProgram.getGlobalNamespace()
    path = ()
    for part in parts:
        path = path + (part,)
        if path not in cache:
            found = symbols.getNamespace(part, ns)
            if found is None:
                found = symbols.createNameSpace(ns, part, SourceType.ANALYSIS)
            cache[path] = found
        ns = cache[path]
    return ns


def add_names(base):
    symbols = currentProgram.getSymbolTable()
    cache = {}
    for (rva, parts, label, flags) in NAMES:
        addr = toAddr(base + rva)
        full = u"::".join(list(parts) + [label])
        current = getSymbolAt(addr)
        if current is not None and current.getName(True) == full:
            continue
        if current is not None and current.getSource() == SourceType.USER_DEFINED:
            put_comment(addr, u"switchboard name: " + full, True)
            continue
        source = SourceType.ANALYSIS
        if flags & 4:
            source = SourceType.IMPORTED
        ns = namespace_of(parts, symbols, cache)
        function = None
        if flags & 1:
            function = getFunctionAt(addr)
        if function is not None:
            function.setName(label, source)
            if parts:
                function.setParentNamespace(ns)
        elif getSymbolAt(addr, label, ns) is None:
            createLabel(addr, label, ns, True, source)


def add_comments(base):
    for (rva, text, at_start) in COMMENTS:
        put_comment(toAddr(base + rva), text, at_start)


def add_xrefs(base):
    refs = currentProgram.getReferenceManager()
    for (frm, to, kind) in XREFS:
        a = toAddr(base + frm)
        b = toAddr(base + to)
        # A call's reference on its operand; the others on the mnemonic (-1).
        op = -1
        ref_type = RefType.DATA
        if kind == 1:
            op = 0
            ref_type = RefType.COMPUTED_CALL
        if refs.getReference(a, b, op) is None:
            refs.addMemoryReference(a, b, ref_type, SourceType.ANALYSIS, op)


def sized(n):
    if n == 1:
        return ByteDataType.dataType
    if n == 2:
        return WordDataType.dataType
    if n == 4:
        return DWordDataType.dataType
    if n == 8:
        return QWordDataType.dataType
    return ArrayDataType(ByteDataType.dataType, n, 1)


def add_types():
    dtm = currentProgram.getDataTypeManager()
    category = CategoryPath(u"/switchboard")
    for (name, size, fields) in STRUCTS:
        s = StructureDataType(category, name, size, dtm)
        for (offset, n, field) in fields:
            s.replaceAtOffset(offset, sized(n), n, field, None)
        dtm.addDataType(s, DataTypeConflictHandler.REPLACE_HANDLER)
    for (name, slots) in VFTABLES:
        s = StructureDataType(category, name, slots * PTR_SIZE, dtm)
        for k in range(slots):
            s.replaceAtOffset(k * PTR_SIZE, PointerDataType.dataType, PTR_SIZE, u"slot_%d" % k, None)
        dtm.addDataType(s, DataTypeConflictHandler.REPLACE_HANDLER)
    for (name, members) in ENUMS:
        e = EnumDataType(category, name, 4)
        for (member, value) in members:
            e.add(member, value)
        dtm.addDataType(e, DataTypeConflictHandler.REPLACE_HANDLER)


def add_bookmarks(base):
    for (rva, text) in BOOKMARKS:
        createBookmark(toAddr(base + rva), u"switchboard", text)


def main():
    got = input_sha256()
    if got != SHA256:
        print("switchboard: this script is for %s (sha256 %s), not this program (sha256 %s)" % (MODULE, SHA256, got))
        return False
    base = currentProgram.getImageBase().getOffset()
    add_functions(base)
    add_names(base)
    add_comments(base)
    add_xrefs(base)
    add_types()
    add_bookmarks(base)
    print("switchboard: applied %d functions, %d names, %d comments, %d xrefs to %s" %
          (len(FUNCS), len(NAMES), len(COMMENTS), len(XREFS), MODULE))
    return True


main()
)PY";
} // namespace

std::string renderGhidra(const ExportModel &m, ExportCounts *counts) {
  fmt::memory_buffer b;
  auto out = std::back_inserter(b);
  fmt::format_to(out, "# @category switchboard\n{}", script::header(m, "Ghidra 11", "Script Manager, Jython or PyGhidra"));
  fmt::format_to(out, "from ghidra.program.model.data import ArrayDataType, ByteDataType, CategoryPath, "
                      "DataTypeConflictHandler, DWordDataType, EnumDataType, PointerDataType, QWordDataType, "
                      "StructureDataType, WordDataType\n"
                      "from ghidra.program.model.symbol import RefType, SourceType\n\n");
  fmt::format_to(out, "{}", script::commonTables(m));
  // Names as (namespace parts, label), with toolNames' suffix (where two
  // would collide) on the label.
  const std::vector<std::string> names = toolNames(m, Tool::Ghidra);
  fmt::format_to(out, "NAMES = [\n");
  for (size_t i = 0; i < m.names.size(); ++i) {
    std::vector<std::string> parts = ghidraParts(m.names[i].text);
    parts.back() += names[i].substr(sanitizeName(Tool::Ghidra, m.names[i].text).size());
    std::string ns;
    for (size_t k = 0; k + 1 < parts.size(); ++k)
      ns += pyString(parts[k]) + ", ";
    fmt::format_to(out, "({}, ({}), {}, {}),\n", hex(m.names[i].rva), ns, pyString(parts.back()),
                   script::nameFlags(m.names[i]));
  }
  fmt::format_to(out, "]\n{}\n\n{}{}", typeTables(m), script::mergeFunction(), kCode);
  if (counts)
    *counts = {m.functions.size(), m.names.size(), m.comments.size(), m.xrefs.size(),
               m.structs.size() + m.vftables.size(), m.enums.size(), m.bookmarks.size()};
  return fmt::to_string(b);
}

} // namespace sb::exporters
