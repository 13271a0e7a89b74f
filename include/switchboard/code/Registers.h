// General-purpose registers by number: RAX, RCX, RDX, RBX, RSP, RBP, RSI,
// RDI, R8..R15 = 0..15, the order of the x64 unwind codes and of the
// instruction encoding. A register of any width (al, ax, eax, rax) has the
// number of the 64-bit register that encloses it; the name depends on the
// architecture ("rcx" on x64, "ecx" on x86).
#pragma once
#include <cstdint>
#include <optional>

namespace sb::code {

enum class Gpr : uint8_t { Rax = 0, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi, R8, R9, R10, R11, R12, R13, R14, R15 };
inline constexpr unsigned kGprCount = 16;

// The register numbered index (0..15), nullopt otherwise.
inline std::optional<Gpr> gprFromIndex(uint32_t index) {
  if (index >= kGprCount)
    return std::nullopt;
  return Gpr(index);
}
inline constexpr unsigned gprIndex(Gpr r) { return unsigned(r); }

// The pointer-sized name: "rbx" on x64, "ebx" on x86 (r8..r15, which x86
// code never names, keep their 64-bit names).
const char *gprName(Gpr r, bool is64);

// Microsoft x64: RBX, RBP, RSI, RDI, R12-R15; x86: EBX, EBP, ESI, EDI.
inline bool isNonVolatile(int index, bool is64) {
  if (index == 3 || index == 5 || index == 6 || index == 7)
    return true;
  return is64 && index >= 12 && index <= 15;
}
inline bool isNonVolatile(Gpr r, bool is64) { return isNonVolatile(int(r), is64); }

} // namespace sb::code
