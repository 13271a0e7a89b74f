// General-purpose registers by number (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
// R8..R15 = 0..15, the order of the x64 unwind codes and of Zydis) and which
// of them a callee must preserve.
#pragma once
#include <Zydis/Zydis.h>

#include <cstdint>

namespace sb::code {

// 0..15 for a general-purpose register of any width, -1 otherwise.
inline int gprIndex(ZydisRegister r) {
  ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
  if (big >= ZYDIS_REGISTER_RAX && big <= ZYDIS_REGISTER_R15)
    return int(big - ZYDIS_REGISTER_RAX);
  return -1;
}

// Microsoft x64: RBX, RBP, RSI, RDI, R12-R15; x86: EBX, EBP, ESI, EDI.
inline bool isNonVolatile(int index, bool is64) {
  if (index == 3 || index == 5 || index == 6 || index == 7)
    return true;
  return is64 && index >= 12 && index <= 15;
}

} // namespace sb::code
