// MSVC C++ exception data (the "FH3" FuncInfo of __CxxFrameHandler3, magic
// 0x19930520/21/22), x64 (image-relative) and x86 (absolute pointers).
#pragma once
#include "switchboard/pe/PeImage.h"
#include "switchboard/support/Expected.h"

#include <cstdint>
#include <vector>

namespace sb::eh {

struct UnwindMapEntry {
  int32_t toState = -1;
  uint32_t actionRva = 0;      // 0: nothing to do for this state
};

struct CatchHandler {
  uint32_t adjectives = 0;     // HT_IsConst 1, HT_IsVolatile 2, HT_IsUnaligned 4, HT_IsReference 8, ...
  uint32_t typeDescriptorRva = 0;   // 0: catch (...)
  int32_t catchObjectOffset = 0;
  uint32_t handlerRva = 0;
  uint32_t frameOffset = 0;    // x64 only: establisher frame of the funclet
};

struct TryBlock {
  int32_t tryLow = 0, tryHigh = 0, catchHigh = 0;
  std::vector<CatchHandler> handlers;
};

struct IpToState {
  uint32_t ipRva = 0;
  int32_t state = -1;
};

struct FuncInfo {
  uint32_t rva = 0;
  uint32_t magic = 0;
  int32_t maxState = 0;
  std::vector<UnwindMapEntry> unwindMap;
  std::vector<TryBlock> tryBlocks;
  std::vector<IpToState> ipToState;
  int32_t unwindHelpOffset = 0;    // x64
  uint32_t esTypeListRva = 0;
  uint32_t flags = 0;

  // Every funclet the runtime can call: unwind actions and catch handlers.
  std::vector<uint32_t> funclets() const;
};

bool isFuncInfoMagic(uint32_t magic);
Expected<FuncInfo> readFuncInfo(const pe::PeImage &img, uint32_t rva);

} // namespace sb::eh
