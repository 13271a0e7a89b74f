// Exception handlers named by UNWIND_INFO and their language-specific data:
// __C_specific_handler scope tables (__try/__except/__finally regions),
// __GSHandlerCheck* cookie data, C++ FuncInfo references.
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/unwind/ScopeTable.h"
#include "switchboard/unwind/UnwindInfo.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sb::unwind {

enum class HandlerKind {
  Unknown,
  CSpecific,          // __C_specific_handler
  CxxFrameHandler,    // __CxxFrameHandler (VC6-era) and __CxxFrameHandler2
  CxxFrameHandler3,
  CxxFrameHandler4,
  GSHandlerCheck,
  GSHandlerCheckSEH,
  GSHandlerCheckEH,
  GSHandlerCheckEH4,
  GCCSpecific,        // _GCC_specific_handler (mingw), data: personality + LSDA
  GccPersonality,     // __gxx_personality_seh0 / __gcc_personality_seh0 (mingw): data is the LSDA RVA
};
const char *handlerKindName(HandlerKind k);

struct GsData {
  uint32_t rva = 0;
  uint32_t cookieOffset = 0;   // relative to the establisher frame
  uint32_t flags = 0;          // low 3 bits: EHandler, UHandler, HasAlignment
  int32_t alignedBaseOffset = 0;
  int32_t alignment = 0;
};

struct HandlerData {
  HandlerKind kind = HandlerKind::Unknown;
  std::string name;                   // the handler's name, or the function's name
  std::vector<ScopeRecord> scopes;    // C scope table
  std::optional<GsData> gs;
  std::optional<uint32_t> funcInfoRva;   // C++ FuncInfo / FuncInfo4
  std::optional<uint32_t> personalityRva, lsdaRva;   // GCC
  std::vector<std::string> warnings;
};

// Names a handler from its symbol, its import thunk, or (statically linked
// __GSHandlerCheck*) from its code. Unknown when none of these says.
HandlerKind classifyHandler(const Analysis &a, uint32_t handlerRva, std::string &name);

// Every handler the exception directory names, classified once: by name, and
// for statically linked (unnamed) ones by the data of all entries that use
// them (FH3 FuncInfo magic, valid scope tables), then GS wrappers by the
// handler they forward to.
class HandlerCatalog {
public:
  HandlerCatalog(const Analysis &a);
  struct Handler {
    HandlerKind kind = HandlerKind::Unknown;
    std::string name;
    size_t users = 0;   // primary entries naming it
  };
  const Handler &of(uint32_t handlerRva) const;
  const std::map<uint32_t, Handler> &all() const { return handlers_; }

private:
  const Analysis &a_;
  std::map<uint32_t, Handler> handlers_;
};

HandlerData decodeHandlerData(const Analysis &a, const HandlerCatalog &catalog, const UnwindInfo &info,
                              uint32_t functionBegin, uint32_t functionEnd);

} // namespace sb::unwind
