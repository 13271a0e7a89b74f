// Zydis's registers as ours: the library's private bridge between the
// decoder's register identities and the public code::Gpr numbering.
#pragma once
#include "switchboard/code/Registers.h"

#include <Zydis/Zydis.h>

#include <optional>

namespace sb::code {

// 0..15 for a general-purpose register of any width, -1 otherwise.
inline int gprIndex(ZydisRegister r) {
  ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
  if (big >= ZYDIS_REGISTER_RAX && big <= ZYDIS_REGISTER_R15)
    return int(big - ZYDIS_REGISTER_RAX);
  return -1;
}
// The general-purpose register enclosing r, nullopt for any other register.
inline std::optional<Gpr> toGpr(ZydisRegister r) {
  int i = gprIndex(r);
  if (i < 0)
    return std::nullopt;
  return Gpr(i);
}
// The 64-bit register (x64) or 32-bit register (x86) of a Gpr.
inline ZydisRegister toZydis(Gpr r, bool is64 = true) {
  return ZydisRegister((is64 ? ZYDIS_REGISTER_RAX : ZYDIS_REGISTER_EAX) + int(r));
}

} // namespace sb::code
