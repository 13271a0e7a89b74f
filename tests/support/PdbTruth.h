// Ground truth from a PDB, read with LLVM's native PDB reader.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace sb::test {

struct PdbProc {
  std::string name;
  uint32_t rva = 0;
  uint32_t size = 0;
  bool isThunk = false;   // S_THUNK32 (linker-made import thunks), S_TRAMPOLINE (incremental-linking thunks)
  bool isLocal = false;   // S_LPROC32
  int module = -1;        // the module whose symbols hold it
  uint32_t exceptionHandlerRva = 0;   // S_FRAMEPROC: the handler its frame registers (x86), or 0
};

// A DBI section contribution: which module put which bytes where.
struct PdbContribution {
  uint32_t rva = 0, size = 0;
  uint32_t characteristics = 0;   // IMAGE_SCN_*
  int module = -1;
};

struct PdbBase {
  std::string name;
  std::string uniqueName;   // decorated, when the base's record has one
  int64_t offset = 0;       // non-virtual bases
  bool isVirtual = false;   // LF_VBCLASS (direct) / LF_IVBCLASS (indirect)
  bool indirect = false;
  int64_t vbptrOffset = 0, vbIndex = 0;
};

struct PdbClass {
  std::string name;
  std::string uniqueName;   // decorated (".?AVFoo@@") when the record has one
  uint64_t size = 0;
  bool hasVfptr = false;    // LF_VFUNCTAB in its field list
  std::vector<PdbBase> bases;
  std::vector<std::pair<std::string, uint64_t>> members;   // LF_MEMBER: name, offset
};

// One line-table row: code from rva on (to the next row) is source line
// `line` of `file` (the file's base name).
struct PdbLine {
  uint32_t rva = 0;
  uint32_t line = 0;
  std::string file;
};

struct PdbTruth {
  std::vector<PdbProc> procs;    // S_GPROC32 / S_LPROC32 / S_THUNK32
  std::vector<std::pair<std::string, uint32_t>> publics;   // S_PUB32 name -> rva
  std::vector<std::pair<std::string, uint32_t>> functionPublics;   // S_PUB32 flagged function
  std::vector<std::pair<std::string, uint32_t>> labels;    // S_LABEL32 (x86 __ehhandler$, __catch$, ...)
  std::vector<std::pair<std::string, uint32_t>> localData;   // S_LDATA32 (internal-linkage data: _CT, _TI of local types)
  std::vector<PdbContribution> contributions;
  std::set<int> assemblyModules;   // modules MASM assembled (S_COMPILE2/3 language)
  std::vector<PdbClass> classes;   // complete (not forward) class/struct records from the TPI stream
  std::vector<PdbLine> lines;      // DEBUG_S_LINES of every module, sorted by rva
  std::array<uint8_t, 16> guid{};
  uint32_t age = 0;

  std::optional<uint32_t> publicRva(const std::string &name) const;
  const PdbProc *proc(const std::string &name) const;
  const PdbClass *cls(const std::string &name) const;
  // The line-table row covering rva (the last row at or before it, inside
  // the same contribution block), or nullptr.
  const PdbLine *lineAt(uint32_t rva) const;
  // The innermost proc whose [rva, rva + size) holds rva, or nullptr.
  const PdbProc *procContaining(uint32_t rva) const;
};

// Reads the module symbol streams and publics of a PDB; nullopt with an error
// message on failure.
std::optional<PdbTruth> readPdbTruth(const std::string &pdbPath, std::string &error);

} // namespace sb::test
