// The Binary Ninja 4 writer: a Python script for File > Run Script (the
// `bv` of the open view). Every call is in data/exporters/binja4.sigs.
//
// One undo action around it all. Functions: create_user_function where
// none starts, then one update_analysis_and_wait so the names, comments and
// references below find their functions. Names: user symbols
// (define_user_symbol; FunctionSymbol, LocalLabelSymbol for a label inside
// a function, DataSymbol otherwise), never over a symbol the user defined
// (one that is not auto): the recovered name goes into a comment. Comments
// join what is there, the function's where a function holds the address.
// References: add_user_code_ref on the function holding the site for calls
// and passed control, add_user_data_ref for code pointers handed over.
// Types: parse_type_string and define_user_type (a second run defines them
// again, the same). Bookmarks: tags of a "switchboard" tag type, not added
// again where the same tag is. update_analysis once at the end.
#include "Script.h"

#include <fmt/format.h>

namespace sb::exporters {
namespace {
using script::hex;
using script::pyString;

const char *kCode = R"PY(

def input_sha256():
    raw = bv.file.raw
    return hashlib.sha256(raw.read(0, raw.length)).hexdigest()


def put_comment(addr, text):
    holders = bv.get_functions_containing(addr)
    target = bv
    if holders:
        target = holders[0]
    old = target.get_comment_at(addr)
    new = merged(old, text)
    if new != old:
        target.set_comment_at(addr, new)


def add_functions(base):
    for rva in FUNCS:
        if bv.get_function_at(base + rva) is None:
            bv.create_user_function(base + rva)


def add_names(base):
    for (rva, name, flags) in NAMES:
        addr = base + rva
        current = bv.get_symbol_at(addr)
        if current is not None and current.full_name == name:
            continue
        if current is not None and not current.auto:
            put_comment(addr, u"switchboard name: " + name)
            continue
        kind = SymbolType.DataSymbol
        if flags & 1:
            kind = SymbolType.FunctionSymbol
        elif flags & 2:
            kind = SymbolType.LocalLabelSymbol
        bv.define_user_symbol(Symbol(kind, addr, name))


def add_comments(base):
    for (rva, text, at_start) in COMMENTS:
        put_comment(base + rva, text)


def add_xrefs(base):
    for (frm, to, kind) in XREFS:
        if kind == 2:
            bv.add_user_data_ref(base + frm, base + to)
        else:
            for f in bv.get_functions_containing(base + frm):
                f.add_user_code_ref(base + frm, base + to)


def add_types():
    for (name, decl) in TYPES:
        parsed = bv.parse_type_string(decl)
        bv.define_user_type(name, parsed[0])


def add_bookmarks(base):
    if not BOOKMARKS:
        return
    if bv.get_tag_type(TAG_TYPE) is None:
        bv.create_tag_type(TAG_TYPE, u"S")
    for (rva, text) in BOOKMARKS:
        there = False
        for tag in bv.get_tags_at(base + rva):
            if tag.type.name == TAG_TYPE and tag.data == text:
                there = True
        if not there:
            bv.add_tag(base + rva, TAG_TYPE, text)


def main():
    got = input_sha256()
    if got != SHA256:
        print("switchboard: this script is for %s (sha256 %s), not this view (sha256 %s)" % (MODULE, SHA256, got))
        return False
    base = bv.image_base
    undo = bv.begin_undo_actions()
    add_functions(base)
    bv.update_analysis_and_wait()
    add_names(base)
    add_comments(base)
    add_xrefs(base)
    add_types()
    add_bookmarks(base)
    bv.commit_undo_actions(undo)
    bv.update_analysis()
    print("switchboard: applied %d functions, %d names, %d comments, %d xrefs to %s" %
          (len(FUNCS), len(NAMES), len(COMMENTS), len(XREFS), MODULE))
    return True


main()
)PY";
} // namespace

std::string renderBinja(const ExportModel &m, ExportCounts *counts) {
  fmt::memory_buffer b;
  auto out = std::back_inserter(b);
  fmt::format_to(out, "{}", script::header(m, "Binary Ninja 4", "File > Run Script, with the binary's view open"));
  fmt::format_to(out, "import hashlib\n\nfrom binaryninja import Symbol, SymbolType\n\nTAG_TYPE = u\"switchboard\"\n");
  fmt::format_to(out, "{}", script::commonTables(m));
  const std::vector<std::string> names = toolNames(m, Tool::Binja);
  fmt::format_to(out, "NAMES = [\n");
  for (size_t i = 0; i < m.names.size(); ++i)
    fmt::format_to(out, "({}, {}, {}),\n", hex(m.names[i].rva), pyString(names[i]), script::nameFlags(m.names[i]));
  fmt::format_to(out, "]\nTYPES = [\n");
  for (const script::CDecl &d : script::cDeclarations(m, script::CFlavor::Binja, ""))
    fmt::format_to(out, "({}, {}),\n", pyString(d.name), pyString(d.text));
  fmt::format_to(out, "]\n\n{}{}", script::mergeFunction(), kCode);
  if (counts)
    *counts = {m.functions.size(), m.names.size(), m.comments.size(), m.xrefs.size(),
               m.structs.size() + m.vftables.size(), m.enums.size(), m.bookmarks.size()};
  return fmt::to_string(b);
}

} // namespace sb::exporters
