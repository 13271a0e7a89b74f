// Function discovery over a whole image.
#pragma once
#include "switchboard/code/Function.h"
#include "switchboard/pe/PeImage.h"

#include <functional>
#include <vector>

namespace sb::code {

struct DiscoveryOptions {
  unsigned threads = 0;   // 0: one per core
  // Called from the coordinating thread between rounds.
  std::function<void(const char *phase, size_t functions)> progress;
  // Function starts a symbol file (PDB) names, seeded like COFF symbols.
  std::vector<uint32_t> symbolStarts;
};

// Seeds: entry point, exports, TLS callbacks, primary .pdata entries (chained
// entries become fragments of their primary), the CFG function table, SafeSEH
// handlers and COFF function symbols. Then recursive descent over direct calls
// and tail jumps, then code addresses taken by instructions and relocated data
// pointers, then a consistency pass (functions absorbed by another are split
// off; calls to functions that never return end their block).
std::vector<Function> discoverFunctions(const pe::PeImage &img, const DiscoveryOptions &options = {});

// Imports known not to return (ExitProcess, _CxxThrowException, ...).
bool isNoReturnImport(const std::string &name);

} // namespace sb::code
