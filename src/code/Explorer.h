// Internal: explores one function's control flow from its entry.
#pragma once
#include "code/Decoder.h"
#include "switchboard/code/Function.h"
#include "switchboard/pe/PeImage.h"

#include <optional>
#include <unordered_set>
#include <vector>

namespace sb::code {

// Read-only facts shared by every exploration of one discovery round.
struct CodeFacts {
  const pe::PeImage &img;
  const Decoder &dec;
  std::vector<uint32_t> starts;                 // known function starts, sorted
  std::vector<uint32_t> noReturnStarts;         // functions known not to return, sorted
  std::vector<uint32_t> weakStarts;             // starts known only from a pointer to them, sorted
  std::vector<uint32_t> calledWeakStarts;       // weak starts something calls: boundaries for jumps, sorted
  std::unordered_set<uint32_t> noReturnIat;     // IAT slots of imports that do not return
  // x64 .pdata: entries sorted by begin, and per primary entry its ranges.
  std::vector<uint32_t> pdataByBegin;           // indices into img.runtimeFunctions()

  bool isStart(uint32_t rva) const;
  bool isNoReturn(uint32_t rva) const;
  bool isWeak(uint32_t rva) const;
  bool isCalledWeak(uint32_t rva) const;
  // The RUNTIME_FUNCTION covering rva, if any.
  const pe::RuntimeFunction *pdataCovering(uint32_t rva) const;
};

struct Exploration {
  Function fn;
  std::vector<uint32_t> newStarts;   // call and tail-jump targets worth exploring
  std::vector<uint32_t> codeRefs;    // addresses of code taken by lea / relocated immediates
  std::vector<uint32_t> noReturnCallSites;
  bool hasReturnPath = false;        // a ret, a tail call or an unresolved indirect jump
  size_t instructions = 0;           // decoded: the cost of this exploration
};

// Limits for speculative explorations (code found by scanning): stay inside
// `within`, decode at most maxInstructions; leaving or exceeding truncates.
struct ExploreLimits {
  std::optional<Range> within;
  size_t maxInstructions = 200000;
};

// extraEntries: further entry points of the same function (EH funclets).
Exploration exploreFunction(const CodeFacts &facts, uint32_t entry, const std::vector<Range> &ownRanges,
                            const std::vector<uint32_t> &extraEntries = {}, const ExploreLimits &limits = {});

} // namespace sb::code
