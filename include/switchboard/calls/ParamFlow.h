// Parameter provenance on x64, the static half of recovering register
// parameters from a dump: where each incoming register parameter goes
// (homed, copied to a non-volatile register, stored to a stack slot) and
// whether it is still there at each call; and for each call, where each
// outgoing register argument comes from, including the non-volatile register
// holding it and where the callee's prolog saves that register.
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/code/Registers.h"
#include "switchboard/values/Value.h"

#include <optional>
#include <string>
#include <vector>

namespace sb::calls {

struct ParamLocation {
  enum Kind : uint8_t { Home, NonVolatile, StackSlot } kind = Home;
  uint32_t siteRva = 0;     // the instruction that put it there
  std::optional<code::Gpr> reg;   // NonVolatile: the register
  int64_t offset = 0;       // Home/StackSlot: entry-RSP-relative
  std::string text() const;
};

struct IncomingParam {
  unsigned index = 0;       // 0..3: RCX, RDX, R8, R9
  std::vector<ParamLocation> locations;
  // Per call site (in address order): the locations still holding it.
  std::vector<std::pair<uint32_t, std::vector<size_t>>> atCalls;
};

struct OutgoingArg {
  unsigned index = 0;
  values::Value value;
  std::string source;       // "constant 0xc", "P1 of this function", "[rsi+0x18]", ...
  std::string kind;         // constant, image_address, stack_address, param, nonvolatile, call_result, memory, unknown
  std::optional<code::Gpr> heldIn;   // a non-volatile register holding the same value at the call
  std::string savedByCallee;   // where the callee's prolog saves that register ("Child-SP+0x20")
};

struct CallParams {
  uint32_t siteRva = 0, calleeRva = 0;
  std::string callee;
  std::vector<OutgoingArg> args;
};

struct ParamFlow {
  uint32_t functionRva = 0;
  std::vector<IncomingParam> incoming;
  std::vector<CallParams> calls;
};

// x64 only (empty for x86).
ParamFlow analyzeParams(const Analysis &a, const code::Function &f);

} // namespace sb::calls
