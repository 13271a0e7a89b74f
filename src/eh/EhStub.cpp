#include "switchboard/eh/EhStub.h"

#include "code/Decoder.h"
#include "switchboard/eh/FuncInfo.h"

namespace sb::eh {
namespace {
// The cookie checks a /GS stub runs first use only these; anything else
// (a push, a store, a branch) means the code is not a stub.
bool isCookieCheckStep(const ZydisDecodedInstruction &in, code::Flow flow) {
  switch (in.mnemonic) {
  case ZYDIS_MNEMONIC_MOV:
  case ZYDIS_MNEMONIC_LEA:
  case ZYDIS_MNEMONIC_XOR:
  case ZYDIS_MNEMONIC_ADD:
    return true;
  case ZYDIS_MNEMONIC_CALL:
    return flow == code::Flow::Call;
  default:
    return false;
  }
}
} // namespace

std::optional<uint32_t> x86EhStubFuncInfo(const image::Image &img, const code::Decoder &dec, uint32_t rva) {
  if (img.is64())
    return std::nullopt;
  code::DecodedInsn d;
  // Two cookie checks are at most 12 instructions.
  for (int i = 0; i < 14; ++i) {
    auto bytes = img.bytesFromRva(rva);
    if (bytes.size() >= 10 && bytes[0] == 0xB8 && img.mayHoldAddress(rva + 1)) {
      code::DecodedInsn jmp;
      bool jumps = dec.decode(img.bytesFromRva(rva + 5), rva + 5, jmp) &&
                   (jmp.flow == code::Flow::Jump ||
                    (jmp.flow == code::Flow::IndirectJump && jmp.memTarget && img.isImportSlot(*jmp.memTarget)));
      uint32_t va = uint32_t(bytes[1]) | uint32_t(bytes[2]) << 8 | uint32_t(bytes[3]) << 16 | uint32_t(bytes[4]) << 24;
      auto fi = jumps ? img.vaToRva(va) : std::nullopt;
      auto magic = fi ? img.readRva<uint32_t>(*fi) : std::nullopt;
      if (magic && isFuncInfoMagic(*magic & 0x1FFFFFFFu))
        return fi;
      return std::nullopt;
    }
    if (!dec.decode(bytes, rva, d) || !isCookieCheckStep(d.insn, d.flow))
      return std::nullopt;
    rva = d.next();
  }
  return std::nullopt;
}

} // namespace sb::eh
