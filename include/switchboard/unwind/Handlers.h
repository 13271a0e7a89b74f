// Exception handlers named by UNWIND_INFO and their language-specific data:
// __C_specific_handler scope tables (__try/__except/__finally regions),
// __GSHandlerCheck* cookie data, C++ FuncInfo references.
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/unwind/UnwindInfo.h"

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
};
const char *handlerKindName(HandlerKind k);

// One __try region of a scope table.
struct ScopeRecord {
  uint32_t begin = 0, end = 0;
  uint32_t handler = 0;   // __except: filter function RVA, or 1 (EXCEPTION_EXECUTE_HANDLER); __finally: the handler
  uint32_t target = 0;    // __except: where execution continues; 0 for __finally
  bool isFinally() const { return target == 0; }
  bool constantFilter() const { return !isFinally() && handler < 0x10; }
};

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

HandlerKind classifyHandler(const Analysis &a, uint32_t handlerRva, std::string &name);
HandlerData decodeHandlerData(const Analysis &a, const UnwindInfo &info, uint32_t functionBegin,
                              uint32_t functionEnd);

} // namespace sb::unwind
