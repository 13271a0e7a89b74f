// x64 UNWIND_INFO (versions 1 and 2), decoded completely: every unwind code
// with its operands, epilog descriptors, the handler and its data, the chained
// RUNTIME_FUNCTION. Nothing here trusts a count or an offset.
#pragma once
#include "switchboard/image/Image.h"
#include "switchboard/support/Expected.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sb::unwind {

enum UnwindOp : uint8_t {
  kPushNonvol = 0,
  kAllocLarge = 1,
  kAllocSmall = 2,
  kSetFpreg = 3,
  kSaveNonvol = 4,
  kSaveNonvolFar = 5,
  kEpilog = 6,        // version 2; version 1: UWOP_SAVE_XMM
  kSpareCode = 7,     // version 1: UWOP_SAVE_XMM_FAR
  kSaveXmm128 = 8,
  kSaveXmm128Far = 9,
  kPushMachframe = 10,
};

enum UnwindFlags : uint8_t { kFlagEHandler = 1, kFlagUHandler = 2, kFlagChainInfo = 4 };

struct UnwindCode {
  uint8_t slot = 0;          // index of its first slot in the code array
  uint8_t slots = 1;         // slots it occupies
  uint8_t prologOffset = 0;  // offset of the end of the instruction it describes
  uint8_t op = 0;
  uint8_t info = 0;
  // Meaning by op: register number (push, save, set fpreg: the header's),
  // allocation size in bytes, save offset in bytes (relative to the frame
  // base), machine frame error-code flag, epilog size/offset.
  uint32_t reg = 0;
  uint32_t value = 0;
};

struct ChainedEntry {
  uint32_t begin = 0, end = 0, unwindRva = 0;
};

struct UnwindInfo {
  uint32_t rva = 0;
  uint8_t version = 0;
  uint8_t flags = 0;
  uint8_t prologSize = 0;
  uint8_t codeCount = 0;
  uint8_t frameRegister = 0;   // 0: none
  uint8_t frameOffset = 0;     // scaled: bytes = 16 * frameOffset
  std::vector<UnwindCode> codes;        // prolog codes, in array order (last prolog instruction first)
  std::vector<UnwindCode> epilogCodes;  // version 2 UWOP_EPILOG descriptors
  uint32_t epilogSize = 0;
  bool epilogAtEnd = false;
  std::vector<uint32_t> epilogOffsetsFromEnd;   // each epilog starts at function end - offset
  std::optional<uint32_t> handlerRva;
  uint32_t handlerDataRva = 0;          // language-specific data follows the handler RVA
  std::optional<ChainedEntry> chained;
  std::vector<std::string> warnings;

  bool hasHandler() const { return handlerRva.has_value(); }
  uint32_t frameOffsetBytes() const { return 16u * frameOffset; }
};

// Decodes the UNWIND_INFO at rva. Fails only when the header is unreadable;
// anything wrong after it (codes past the end, bad versions, unknown ops) is a
// warning in the result, decoded as far as it goes.
Expected<UnwindInfo> decodeUnwindInfo(const image::Image &img, uint32_t rva);

const char *registerName(uint32_t reg);               // x64 GPR by unwind number: rax..r15
const char *unwindOpName(uint8_t op, uint8_t version);   // "UWOP_PUSH_NONVOL", ...
std::string describeCode(const UnwindCode &c, uint8_t version);   // "UWOP_SAVE_NONVOL FrameOffset: 40 reg: rbx."

} // namespace sb::unwind
