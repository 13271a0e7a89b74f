// Exporters: what the analysis recovered, written for another tool. One
// export model is built once from the session (functions with their chunks,
// every name the naming service gives, comments at the sites of the hidden
// edges, a cross-reference for every non-call edge (but candidate sets of
// more than 32 targets, which only the site's comment counts), vftable sizes and class
// layouts, the vftables' slots, enums of the messages and command ids the
// procedures dispatch on, bookmarks at the procedures); each writer renders
// that one model in its tool's format (a tool without a place for some
// part leaves it out). Nothing
// here is re-derived: the model reads the graph, the naming service, the
// function list and the object model.
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/names/Names.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sb::exporters {

enum class Tool : uint8_t { Radare2, X64dbg, Ida, Ghidra, Binja };
// "r2", "x64dbg", "ida", "ghidra", "binja".
const char *toolName(Tool t);
// "r2"/"radare2", "x64dbg"/"x32dbg", "ida", "ghidra", "binja"/"binaryninja".
std::optional<Tool> parseTool(std::string_view name);

struct ExportChunk {
  uint64_t rva = 0, end = 0;   // [rva, end)
};

struct ExportFunction {
  uint64_t rva = 0;
  std::string name;                  // the naming service's, else the function model's
  std::vector<ExportChunk> chunks;   // disjoint: the main chunk first, then fragments by address
  // The entry is a ud2 (a compiler's trap stub): radare2 makes no function
  // there (af refuses, afb+ fails and misplaces the function), so its
  // writer gives it a flag only.
  bool trapEntry = false;
};

// Every name the naming service gives (functions too), by address.
struct ExportName {
  uint64_t rva = 0;
  std::string text;
  names::Source source = names::Source::Heuristic;
  bool label = false;      // a label inside a function (message handler)
  bool function = false;   // the start of an exported function
  uint32_t size = 0;       // bytes the name covers, when known (a vftable: its slots)
};

// One comment per address: the texts of every edge leaving it, joined.
struct ExportComment {
  uint64_t rva = 0;
  std::string text;
};

// How a tool should see a cross-reference.
enum class XrefType : uint8_t { Code, Call, Data };
const char *xrefTypeName(XrefType t);   // "code", "call", "data"

struct ExportXref {
  uint64_t from = 0, to = 0;
  XrefType type = XrefType::Code;
  graph::EdgeKind kind = graph::EdgeKind::Message;
};

// A recovered class layout: its size and the fields the object model found.
struct ExportField {
  uint64_t offset = 0;
  unsigned size = 0;
  std::string name;   // "vfptr", "field_10", "member_Circle"
};
struct ExportStruct {
  std::string name;
  uint64_t size = 0;
  std::vector<ExportField> fields;   // by offset, not overlapping, inside size
};

// A vftable as a structure of its slots (one code pointer each).
struct ExportVftable {
  uint64_t rva = 0;
  std::string name;                 // its name: "Circle::`vftable'"
  std::string className;            // "Circle"
  std::vector<uint64_t> slots;      // each slot's target
};

// An enumeration of the constants the code dispatches on: the window
// messages the procedures handle, the WM_COMMAND ids they test.
struct ExportEnumMember {
  std::string name;   // "WM_PAINT", "ID_40001"
  uint64_t value = 0;
};
struct ExportEnum {
  std::string name;   // "sb_window_messages", "sb_command_ids"
  std::vector<ExportEnumMember> members;   // by value, names unique
};

// A place worth a bookmark: a window, dialog, subclass or hook procedure.
struct ExportBookmark {
  uint64_t rva = 0;
  std::string text;   // "WndProc_Main: window procedure (class Main)"
};

struct ExportModel {
  std::string moduleFile;   // "notifu64.exe": what a debugger calls the module
  std::string sha256;       // of the file
  uint64_t fileSize = 0;
  uint64_t imageBase = 0;
  uint32_t sizeOfImage = 0;
  bool is64 = false;
  std::vector<ExportFunction> functions;   // by rva
  std::vector<ExportName> names;           // by rva
  std::vector<ExportComment> comments;     // by rva
  std::vector<ExportXref> xrefs;           // by (to, from)
  std::vector<ExportStruct> structs;       // by name
  std::vector<ExportVftable> vftables;     // by rva
  std::vector<ExportEnum> enums;           // by name, none empty
  std::vector<ExportBookmark> bookmarks;   // by rva
};

// The comment each hidden edge (every kind but call and tail call) puts at
// its site, or for a funclet edge at the funclet: "SendMessageW ->
// WndProc_Main::WM_COPYDATA [WM_COPYDATA (0x004a)]", "vcall slot 1 -> 2
// candidates: ...". What the exporters and the project database write.
struct SiteComment {
  uint64_t rva = 0;
  graph::EdgeKind kind = graph::EdgeKind::Call;
  std::string text;
};
std::vector<SiteComment> siteComments(const Analysis &a);

// Builds the model from the session. moduleFile: the image's file name.
ExportModel buildExportModel(const Analysis &a, std::string moduleFile);

// A name as the tool accepts it (radare2: its flag rules, [A-Za-z_:][\w.:]*;
// x64dbg: a label of at most 254 bytes without control characters; IDA:
// [A-Za-z0-9_$?@], `::` as `__`, under MAXNAMELEN; Ghidra: each part of
// ghidraParts() without blanks or control characters, joined by `::`;
// Binary Ninja: printable).
std::string sanitizeName(Tool tool, std::string_view text);
// A C++ name split at its top-level `::` (not inside <>, () or `'):
// "std::vector<a::b>::`vftable'" -> {"std", "vector<a::b>", "`vftable'"}.
std::vector<std::string> splitQualified(std::string_view text);
// Ghidra's form of a name: its namespace parts and label, each sanitized
// (sanitizeName(Tool::Ghidra) joins them with "::"). Split before
// sanitizing: a part cut at Ghidra's length limit may end inside a template.
std::vector<std::string> ghidraParts(std::string_view text);
// A C identifier for a type or enum member: [A-Za-z_][A-Za-z0-9_]*.
std::string cIdentifier(std::string_view text);
// The tool's name for every entry of model.names (same order): sanitized,
// and made unique with an _<rva> suffix where two would collide.
std::vector<std::string> toolNames(const ExportModel &model, Tool tool);

struct ExportCounts {
  size_t functions = 0, names = 0, comments = 0, xrefs = 0, structs = 0, enums = 0, bookmarks = 0;
};

// The blocks the radare2 writer gives each function (same order as
// model.functions), so that no address lies in two r2 functions (radare2
// 6.2.0's $FB and afb-/afb+ then pick the first function holding it): the
// main chunk up to the next function's entry, then each fragment that
// overlaps no block given already and holds no function entry. Empty: no
// r2 function (a ud2 stub).
std::vector<std::vector<ExportChunk>> radare2Blocks(const ExportModel &model);

// radare2 script (r2 -i script.r2 FILE): idempotent, and refusing any file
// whose sha256 is not the model's.
std::string renderRadare2(const ExportModel &model, ExportCounts *counts = nullptr);
// x64dbg database (.dd64/.dd32): JSON as x64dbg's src/dbg/*.cpp write it.
std::string renderX64dbg(const ExportModel &model, ExportCounts *counts = nullptr);
// Python scripts for IDA Pro 9 (File > Script file), Ghidra 11 (Script
// Manager; Jython 2.7 and PyGhidra) and Binary Ninja 4 (File > Run Script):
// the model as data tables and a few loops over them; idempotent; refusing a
// database whose input file's sha256 is not the model's. Every API they
// call is in data/exporters/{ida9,ghidra11,binja4}.sigs.
std::string renderIda(const ExportModel &model, ExportCounts *counts = nullptr);
std::string renderGhidra(const ExportModel &model, ExportCounts *counts = nullptr);
std::string renderBinja(const ExportModel &model, ExportCounts *counts = nullptr);
std::string render(Tool tool, const ExportModel &model, ExportCounts *counts = nullptr);
// ".r2", ".dd64"/".dd32", ".py" (".ida.py", ".ghidra.py", ".binja.py").
std::string defaultExtension(Tool tool, const ExportModel &model);

} // namespace sb::exporters
