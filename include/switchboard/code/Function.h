// The function model: functions made of basic blocks, grouped into contiguous
// chunks (a function's main body plus fragments elsewhere).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace sb::code {

struct Range {
  uint32_t rva = 0, end = 0;   // [rva, end)
  bool contains(uint32_t a) const { return a >= rva && a < end; }
};

enum class JumpTableKind : uint8_t {
  Absolute,        // entries are VAs (x86 MSVC/GCC, non-PIC x64)
  ImageRelative,   // entries are RVAs added to __ImageBase (x64 MSVC)
  TableRelative,   // entries are signed offsets added to the table address (GCC/clang x64)
};
const char *jumpTableKindName(JumpTableKind k);

struct JumpTable {
  uint32_t jumpRva = 0;       // the indirect jmp
  uint32_t tableRva = 0;
  uint32_t indexTableRva = 0; // MSVC byte index table in front of the main one, or 0
  uint8_t entrySize = 4;
  JumpTableKind kind = JumpTableKind::Absolute;
  bool boundKnown = false;    // count came from a cmp/ja guard (else: entries validated one by one)
  std::vector<uint32_t> targets;   // one per entry, in table order
};

struct BasicBlock {
  uint32_t rva = 0, end = 0;
  std::vector<uint32_t> successors;   // within the function
};

// Why a function start is believed; a function may have several.
enum SourceFlags : uint32_t {
  kFromEntry = 1u << 0,
  kFromExport = 1u << 1,
  kFromTls = 1u << 2,
  kFromPdata = 1u << 3,
  kFromCfg = 1u << 4,
  kFromCall = 1u << 5,
  kFromTailJump = 1u << 6,
  kFromSymbol = 1u << 7,
  kFromCodeRef = 1u << 8,      // lea/imm/relocated pointer to it
  kFromSafeSeh = 1u << 9,
  kFromScan = 1u << 10,        // found in otherwise unexplored code bytes
  kFromEhTable = 1u << 11,     // a filter or termination handler an SEH scope table names
};
std::string sourceNames(uint32_t flags);

struct Function {
  uint32_t rva = 0;
  std::string name;               // best name (demangled), or sub_XXXX
  std::string rawName;            // the symbol as found (mangled), if any
  uint32_t sources = 0;
  std::vector<BasicBlock> blocks;     // sorted by rva
  std::vector<Range> chunks;          // sorted; the one containing rva is the main chunk
  std::vector<uint32_t> callees;      // direct call targets (sorted, unique)
  std::vector<uint32_t> tailCalls;    // jumps to other functions
  std::vector<JumpTable> jumpTables;
  std::vector<uint32_t> pdataEntries; // RUNTIME_FUNCTION indices: primary first, then chained fragments
  uint32_t ehFuncInfoRva = 0;         // C++ EH FuncInfo whose funclets are chunks of this function
  std::vector<uint32_t> funclets;     // EH funclet (and x86 __ehhandler$ stub) entries
  bool isImportThunk = false;
  uint32_t thunkIatRva = 0;
  bool noReturn = false;
  bool throwsCxx = false;             // a statically linked _CxxThrowException (raises 0xE06D7363)
  bool truncated = false;             // exploration stopped at a limit or undecodable bytes

  uint32_t end() const;               // end of the main chunk
  bool contains(uint32_t a) const;
};

} // namespace sb::code
