// MSVC C++ exception data (the "FH3" FuncInfo of __CxxFrameHandler3, magic
// 0x19930520/21/22), x64 (image-relative) and x86 (absolute pointers).
#pragma once
#include "switchboard/image/Image.h"
#include "switchboard/support/Expected.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace sb::eh {

enum class EhFormat { FH3, FH4 };

// FH4 unwind entry types; FH3 entries are Rva (an action) or NoUnwind.
enum class UnwindType : uint8_t { NoUnwind = 0, DtorWithObj = 1, DtorWithPtrToObj = 2, Rva = 3 };

struct UnwindMapEntry {
  int32_t toState = -1;
  uint32_t actionRva = 0;      // 0: nothing to do for this state
  UnwindType type = UnwindType::NoUnwind;
  std::optional<int32_t> objectOffset;   // FH4 Dtor* entries: the object's frame offset
};

struct CatchHandler {
  uint32_t adjectives = 0;     // HT_IsConst 1, HT_IsVolatile 2, HT_IsUnaligned 4, HT_IsReference 8, ...
  uint32_t typeDescriptorRva = 0;   // 0: catch (...)
  int32_t catchObjectOffset = 0;
  uint32_t handlerRva = 0;
  uint32_t frameOffset = 0;    // x64 only: establisher frame of the funclet
  std::vector<uint32_t> continuations;   // FH4: where execution resumes after the catch
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
  EhFormat format = EhFormat::FH3;
  uint32_t rva = 0;
  uint32_t magic = 0;          // FH3
  uint8_t fh4Flags = 0;        // FH4 header: isCatch 1, isSeparated 2, BBT 4, UnwindMap 8, TryBlockMap 0x10, EHs 0x20, NoExcept 0x40
  uint32_t fh4Frame = 0;       // FH4 catch funclets: dispFrame
  std::vector<std::pair<uint32_t, uint32_t>> segments;   // FH4 separated code: (segment start, its IP map)
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
// A pointer field of the EH structures: an RVA on x64, a VA on x86 (returned
// as an RVA). 0 stays 0.
std::optional<uint32_t> readEhPointer(const image::Image &img, uint32_t rva);
Expected<FuncInfo> readFuncInfo(const image::Image &img, uint32_t rva);
// FuncInfo4 (vcruntime140_1): compressed. IPs in its IP-to-state map are
// deltas from the start of the function (or of each separated segment) that
// names it, so that start is needed.
Expected<FuncInfo> readFuncInfo4(const image::Image &img, uint32_t rva, uint32_t functionBegin);

} // namespace sb::eh
