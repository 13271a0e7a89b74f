// The IDA Pro 9 writer: an IDAPython script (File > Script file). The model
// is data (Python lists); a few loops apply it through the ida_* modules
// and idc, so a binary of 60,000 functions gives a script of tables, not
// of statements. Every call is in data/exporters/ida9.sigs.
//
// Functions: ida_funcs.add_func where IDA has none starting there, the
// model's further chunks (EH funclets, chained fragments) as tails
// (append_func_tail): where IDA made such a chunk a function of its own
// (from its .pdata entry), that function is deleted first (del_func). Names: ida_name.set_name, but never over a name the user gave
// (ida_bytes.has_user_name): the recovered one then goes into a
// repeatable comment. Comments join what is there; a comment at a
// function or label start is repeatable (IDA shows it at every reference).
// Cross-references: code references (fl_CN for resolved calls, fl_JN for
// control passed elsewhere) and offsets (dr_O), all XREF_USER so IDA's
// reanalysis keeps them. Types: one idc.parse_decls of C declarations,
// PT_REPLACE so a second run replaces them with themselves. Bookmarks:
// idc.put_bookmark in free slots, not again where the same one is.
// ida_auto.auto_wait and one refresh at the end.
#include "Script.h"

#include <fmt/format.h>

namespace sb::exporters {
namespace {
using script::hex;
using script::pyString;

// The C declarations as one Python string; enum members prefixed: IDA's
// constants share one namespace (WM_PAINT may be a type library's already).
std::string declTable(const ExportModel &m) {
  std::string decls;
  for (const script::CDecl &d : script::cDeclarations(m, script::CFlavor::Ida, "SB_"))
    decls += d.text + "\n";
  return "DECLS = " + pyString(decls) + "\n";
}

const char *kCode = R"PY(
SN_FLAGS = ida_name.SN_NOCHECK | ida_name.SN_NOWARN
MAX_BOOKMARK_SLOT = 1024


def input_sha256():
    h = ida_nalt.retrieve_input_file_sha256()
    if h is None:
        return ""
    if isinstance(h, (bytes, bytearray)):
        if len(h) == 32:
            return binascii.hexlify(h).decode("ascii")
        return h.decode("ascii").lower()
    return str(h).lower()


def add_functions(base):
    for rva in FUNCS:
        f = ida_funcs.get_func(base + rva)
        if f is None or f.start_ea != base + rva:
            ida_funcs.add_func(base + rva)
    starts = set(FUNCS)
    for (rva, start, end) in TAILS:
        f = ida_funcs.get_func(base + rva)
        if f is None or f.start_ea != base + rva:
            continue
        g = ida_funcs.get_func(base + start)
        if g is not None and g.start_ea == base + start and start not in starts:
            # IDA made the chunk a function of its own (a funclet's or a
            # fragment's .pdata entry): it becomes this function's tail.
            ida_funcs.del_func(base + start)
            f = ida_funcs.get_func(base + rva)
        if ida_funcs.get_fchunk(base + start) is None:
            ida_funcs.append_func_tail(f, base + start, base + end)


def put_comment(ea, text, repeatable):
    old = ida_bytes.get_cmt(ea, repeatable)
    new = merged(old, text)
    if new != old:
        ida_bytes.set_cmt(ea, new, repeatable)


def add_names(base):
    for (rva, name, flags) in NAMES:
        ea = base + rva
        current = ida_name.get_name(ea)
        if current == name:
            continue
        if current and ida_bytes.has_user_name(ida_bytes.get_flags(ea)):
            put_comment(ea, u"switchboard name: " + name, True)
            continue
        ida_name.set_name(ea, name, SN_FLAGS)


def add_comments(base):
    for (rva, text, at_start) in COMMENTS:
        put_comment(base + rva, text, at_start == 1)


def add_xrefs(base):
    code = (ida_xref.fl_JN | ida_xref.XREF_USER, ida_xref.fl_CN | ida_xref.XREF_USER)
    data = ida_xref.dr_O | ida_xref.XREF_USER
    for (frm, to, kind) in XREFS:
        if kind == 2:
            ida_xref.add_dref(base + frm, base + to, data)
        else:
            ida_xref.add_cref(base + frm, base + to, code[kind])


def add_types():
    if DECLS:
        return idc.parse_decls(DECLS, idc.PT_SILENT | idc.PT_REPLACE)
    return 0


def add_bookmarks(base):
    if not BOOKMARKS:
        return
    there = set()
    free = []
    for slot in range(1, MAX_BOOKMARK_SLOT + 1):
        ea = idc.get_bookmark(slot)
        if ea is None or ea == idc.BADADDR:
            free.append(slot)
        else:
            there.add((ea, idc.get_bookmark_desc(slot)))
    free.reverse()
    for (rva, text) in BOOKMARKS:
        if (base + rva, text) not in there and free:
            idc.put_bookmark(base + rva, 0, 0, 0, free.pop(), text)


def main():
    got = input_sha256()
    if got != SHA256:
        print("switchboard: this script is for %s (sha256 %s), not this database (sha256 %s)" % (MODULE, SHA256, got))
        return False
    base = ida_nalt.get_imagebase()
    add_functions(base)
    add_names(base)
    add_comments(base)
    add_xrefs(base)
    errors = add_types()
    add_bookmarks(base)
    ida_auto.auto_wait()
    ida_kernwin.refresh_idaview_anyway()
    print("switchboard: applied %d functions, %d names, %d comments, %d xrefs to %s (%d type errors)" %
          (len(FUNCS), len(NAMES), len(COMMENTS), len(XREFS), MODULE, errors))
    return True


main()
)PY";
} // namespace

std::string renderIda(const ExportModel &m, ExportCounts *counts) {
  fmt::memory_buffer b;
  auto out = std::back_inserter(b);
  fmt::format_to(out, "{}", script::header(m, "IDA Pro 9", "File > Script file"));
  fmt::format_to(out, "import binascii\n\nimport ida_auto\nimport ida_bytes\nimport ida_funcs\nimport ida_kernwin\n"
                      "import ida_nalt\nimport ida_name\nimport ida_xref\nimport idc\n\n");
  fmt::format_to(out, "{}", script::commonTables(m));
  const std::vector<std::string> names = toolNames(m, Tool::Ida);
  fmt::format_to(out, "NAMES = [\n");
  for (size_t i = 0; i < m.names.size(); ++i)
    fmt::format_to(out, "({}, {}, {}),\n", hex(m.names[i].rva), pyString(names[i]), script::nameFlags(m.names[i]));
  fmt::format_to(out, "]\n");
  fmt::format_to(out, "{}\n\n{}{}", declTable(m), script::mergeFunction(), kCode);
  if (counts)
    *counts = {m.functions.size(), m.names.size(), m.comments.size(), m.xrefs.size(),
               m.structs.size() + m.vftables.size(), m.enums.size(), m.bookmarks.size()};
  return fmt::to_string(b);
}

} // namespace sb::exporters
