// C++ exception handling as control flow: per function, its try/catch
// structure and unwind states (FH3 or FH4); per throw site, the thrown type
// from its ThrowInfo; and which throw sites can reach which catch by type.
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/eh/FuncInfo.h"
#include "switchboard/unwind/Handlers.h"

#include <string>
#include <vector>

namespace sb::eh {

struct CatchInfo {
  std::string type;             // demangled; "..." for catch (...)
  uint32_t typeDescriptorRva = 0;
  uint32_t adjectives = 0;      // 1 const, 2 volatile, 8 reference
  uint32_t handlerRva = 0;
  int32_t catchObjectOffset = 0;         // where the caught object is copied, frame-relative
  std::vector<uint32_t> continuations;   // FH4: where execution resumes
  std::string name;             // parent$catch$N
};

struct TryInfo {
  int32_t tryLow = 0, tryHigh = 0, catchHigh = 0;
  std::vector<std::pair<uint32_t, uint32_t>> ranges;   // code whose state lies in [tryLow, tryHigh]
  std::vector<CatchInfo> catches;
};

struct UnwindAction {
  int32_t state = 0, toState = -1;
  UnwindType type = UnwindType::NoUnwind;
  uint32_t actionRva = 0;       // the funclet (or, FH4 Dtor* entries, the destructor itself)
  uint32_t destructorRva = 0;   // the destructor it calls, when found
  std::optional<int32_t> frameOffset;   // the stack object it destroys
  bool heap = false;            // destroys through a pointer (operator delete after a failed new, ...)
  uint32_t constructorRva = 0;  // the call that entered this state
  std::string name;             // parent$dtor$N
};

struct ThrowSite {
  uint32_t siteRva = 0, functionRva = 0;
  uint32_t throwInfoRva = 0;    // 0 with rethrow
  bool rethrow = false;
  bool unresolved = false;      // the ThrowInfo argument is not a known address (no type)
  std::string type;             // most-derived thrown type
  std::vector<std::string> catchable;           // most-derived first
  std::vector<uint32_t> catchableDescriptors;   // their TypeDescriptor RVAs
  uint32_t copyConstructorRva = 0;
  uint32_t destructorRva = 0;   // ThrowInfo's unwind function
  uint32_t rethrowFromRva = 0;  // a rethrow: the catch handler it sits in, when known
};

struct FunctionEh {
  uint32_t rva = 0;
  uint32_t parentRva = 0;       // FH4 catch funclets with a FuncInfo4 of their own: the function they belong to
  uint32_t funcInfoRva = 0;
  EhFormat format = EhFormat::FH3;
  uint32_t magic = 0;           // FH3
  uint8_t fh4Flags = 0;         // FH4 header
  uint32_t esTypeListRva = 0;   // FH3 exception specification list
  std::vector<std::pair<uint32_t, uint32_t>> segments;   // FH4 separated code
  std::vector<TryInfo> tries;
  std::vector<UnwindAction> unwind;
  std::vector<IpToState> ipToState;
  std::string error;            // set when the FuncInfo does not decode
};

// A throw site reaches, in each try block, the first of its catches whose
// type it matches ("..." matches every throw); a rethrow leaves its own try
// and reaches only the tries of its function that enclose that try.
struct CatchEdge {
  std::string type;             // the catch's type
  uint32_t handlerRva = 0;
  uint32_t functionRva = 0;
  std::vector<uint32_t> throwSites;
};

struct EhModel {
  std::vector<FunctionEh> functions;
  std::vector<ThrowSite> throws;
  std::vector<CatchEdge> edges;
};

EhModel analyzeEh(const Analysis &a);
// What the ThrowInfo at rva says about the thrown object (its catchable
// types, most-derived first; its destructor): a raised C++ exception's
// parameters name one (a crash dump's exception record).
ThrowSite throwInfoAt(const image::Image &img, uint32_t throwInfoRva);
// The funclets of one function with their names (parent$catch$N,
// parent$dtor$N), without analyzing the whole image.
std::vector<std::pair<uint32_t, std::string>> funcletNames(const Analysis &a, const unwind::HandlerCatalog &catalog,
                                                           const code::Function &f);

} // namespace sb::eh
