// The integer registers of one thread or one frame of its stack, as a walk
// knows them: the instruction and stack pointers and the general-purpose
// registers, each known or not (a volatile register of a caller's frame is
// not). Numbered as the hardware encodes them, which is also the x64 unwind
// codes' numbering: rax rcx rdx rbx rsp rbp rsi rdi r8..r15 (x86: eax ecx edx
// ebx esp ebp esi edi).
#pragma once
#include "switchboard/image/Image.h"

#include <array>
#include <cstdint>

namespace sb::dump {

using Arch = image::Architecture;

enum Gpr : uint8_t { kAx = 0, kCx, kDx, kBx, kSp, kBp, kSi, kDi, kR8, kR9, kR10, kR11, kR12, kR13, kR14, kR15 };

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

// "rbx", "ebx".
const char *gprName(Arch arch, unsigned r);
// Whether the Windows calling convention keeps r across a call (x64: rbx rbp
// rdi rsi r12-r15; x86: ebx ebp esi edi). The stack pointer is not counted:
// a walk computes it.
bool isNonvolatile(Arch arch, unsigned r);

} // namespace sb::dump
