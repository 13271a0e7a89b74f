// The integer registers of one thread or one frame of its stack, as a walk
// knows them: the instruction and stack pointers and the general-purpose
// registers, each known or not (a volatile register of a caller's frame is
// not). Numbered as the hardware encodes them, which is also the x64 unwind
// codes' numbering: rax rcx rdx rbx rsp rbp rsi rdi r8..r15 (x86: eax ecx edx
// ebx esp ebp esi edi).
#pragma once
#include "switchboard/code/Registers.h"
#include "switchboard/image/Image.h"

#include <array>
#include <cstdint>

namespace sb::dump {

using Arch = image::Architecture;

// code::Gpr's numbers, as indices into Registers::gpr.
inline constexpr unsigned kAx = code::gprIndex(code::Gpr::Rax), kCx = code::gprIndex(code::Gpr::Rcx),
                          kDx = code::gprIndex(code::Gpr::Rdx), kBx = code::gprIndex(code::Gpr::Rbx),
                          kSp = code::gprIndex(code::Gpr::Rsp), kBp = code::gprIndex(code::Gpr::Rbp),
                          kSi = code::gprIndex(code::Gpr::Rsi), kDi = code::gprIndex(code::Gpr::Rdi);

struct Registers {
  Arch arch = Arch::Other;
  bool valid = false;   // a context was read at all
  uint64_t pc = 0;
  uint32_t eflags = 0;
  std::array<uint64_t, 16> gpr{};
  uint16_t known = 0;   // bit r: gpr[r] is known

  unsigned count() const { return arch == Arch::X64 ? 16 : 8; }
  uint64_t sp() const { return gpr[kSp]; }
  bool isKnown(unsigned r) const { return r < 16 && (known >> r & 1) != 0; }
  void set(unsigned r, uint64_t v) {
    gpr[r & 15] = arch == Arch::X64 ? v : uint32_t(v);
    known = uint16_t(known | 1u << (r & 15));
  }
  void forget(unsigned r) { known = uint16_t(known & ~(1u << (r & 15))); }
};

// "rbx", "ebx" (code::gprName).
inline const char *gprName(Arch arch, unsigned r) { return code::gprName(code::Gpr(r & 15), arch == Arch::X64); }
// Whether the Windows calling convention keeps r across a call
// (code::isNonVolatile). The stack pointer is not counted: a walk computes it.
inline bool isNonvolatile(Arch arch, unsigned r) { return code::isNonVolatile(int(r), arch == Arch::X64); }

// A caller's registers after a step: the volatile ones are not known any more.
inline void forgetVolatiles(Registers &regs) {
  for (unsigned r = 0; r < regs.count(); ++r)
    if (r != kSp && !isNonvolatile(regs.arch, r))
      regs.forget(r);
}

} // namespace sb::dump
