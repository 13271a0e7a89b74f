// The C structured exception handling of one image: per function, its
// __try/__except/__finally regions: x64 __C_specific_handler scope tables
// (found through the exception directory) and x86 _except_handler3/4 scope
// tables (found in each function's prolog).
#pragma once
#include "switchboard/unwind/Handlers.h"
#include "switchboard/unwind/ScopeTable.h"

#include <optional>
#include <string>
#include <vector>

namespace sb { class Analysis; }

namespace sb::unwind {

struct FunctionSeh {
  uint32_t rva = 0;
  std::string handler;                 // the language handler's name
  uint32_t tableRva = 0;
  std::optional<X86ScopeTable> x86;
  std::vector<ScopeRecord> x64;
  std::optional<GsData> gs;
};

struct SehModel {
  std::vector<FunctionSeh> functions;   // by rva
};

SehModel analyzeSeh(const Analysis &a);

} // namespace sb::unwind
