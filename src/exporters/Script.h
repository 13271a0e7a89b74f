// What the three Python writers (IDA, Ghidra, Binary Ninja) share: Python
// literals that mean the same in Python 2.7 (Jython) and 3, the data tables
// every script iterates (functions, tails, comments, cross-references,
// bookmarks), and the C declarations of the model's types.
#pragma once
#include "switchboard/exporters/Exporter.h"

#include <fmt/format.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sb::exporters::script {

// u"..." with every non-ASCII character as \uXXXX (\UXXXXXXXX beyond the
// BMP; a byte that is no UTF-8 as U+FFFD) and control characters as \xNN:
// the same string in Python 2.7 and 3.
std::string pyString(std::string_view utf8);
// One line for the script's own # comments.
std::string oneLine(std::string_view s);

// The type names the writers give the class layouts and the vftables
// (same order as model.structs / model.vftables): unique C identifiers,
// "sb_Circle", "sb_Circle_vftbl" (a second vftable of one class gets its
// address: "sb_Circle_vftbl_2a0f8").
std::vector<std::string> structTypeNames(const ExportModel &m);
std::vector<std::string> vftableTypeNames(const ExportModel &m);
// Enum member names as C identifiers, with a prefix (IDA's enum members
// share one namespace with every other constant it knows).
std::string enumMemberName(const ExportEnumMember &member, std::string_view prefix);

// The C spelling of fixed-size integers: IDA's parser knows __intN, Binary
// Ninja's knows <stdint.h>.
enum class CFlavor : uint8_t { Ida, Binja };
struct CDecl {
  std::string name;   // the type's name
  std::string text;   // "struct sb_Circle { ... };"
};
// Every class layout, vftable (one code pointer per slot) and enum.
std::vector<CDecl> cDeclarations(const ExportModel &m, CFlavor flavor, std::string_view enumPrefix);

// Per comment (same order as model.comments): whether it sits at the start
// of a function or a named label (a funclet, a dispatch case), where the
// tools show it above the code (IDA: repeatable, Ghidra: pre-comment).
std::vector<bool> commentAtStart(const ExportModel &m);

// Per name: 1 a function's, 2 a label inside a function, 4 from a symbol
// (PDB, export, COFF, import) rather than recovered.
unsigned nameFlags(const ExportName &n);

// The header every script starts with (# lines naming the binary) and the
// constants the guard compares: MODULE, SHA256, FILE_SIZE, IMAGE_BASE.
std::string header(const ExportModel &m, std::string_view tool, std::string_view howToRun);
// FUNCS (entry rvas), TAILS ((function, start, end)), COMMENTS ((rva, text,
// at start)), XREFS ((from, to, 0 code / 1 call / 2 data)), BOOKMARKS ((rva,
// text)): Python lists, one row a line.
std::string commonTables(const ExportModel &m);
// The comment helper every script uses: a text joins what is there (never
// replacing a user's comment), and a text already there is not added again.
std::string mergeFunction();

// 0x-prefixed hex, as the tables write addresses.
inline std::string hex(uint64_t v) { return fmt::format("0x{:x}", v); }

} // namespace sb::exporters::script
