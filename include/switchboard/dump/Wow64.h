// WOW64: a 64-bit dump of a 32-bit process. Each thread's context in the
// dump is the 64-bit one (inside wow64cpu); its 32-bit context, the one a
// walk of the program's own stack starts from (WinDbg `.effmach x86`), is in
// the thread's 64-bit TEB: TlsSlots[1] (WOW64_TLS_CPURESERVED) points to the
// CPU-reserved area, a USHORT Flags and a USHORT MachineType followed by the
// WOW64_CONTEXT (the x86 CONTEXT layout).
#pragma once
#include "switchboard/dump/Unwinder.h"

#include <optional>

namespace sb::dump {

inline constexpr uint64_t kTeb64TlsSlot1 = 0x1480 + 8;   // TEB64.TlsSlots[1]
inline constexpr uint64_t kTeb32FromTeb64 = 0x2000;      // the 32-bit TEB follows the 64-bit one

// The 32-bit context of the thread whose 64-bit TEB is at teb64; nullopt
// when the slot is empty or unreadable, or what it points to is not a
// WOW64_CONTEXT (ContextFlags without CONTEXT_i386 | CONTEXT_CONTROL, a code
// segment of another privilege level, a zero stack or instruction pointer).
std::optional<Registers> wow64Context(const MemoryReader &memory, uint64_t teb64);

} // namespace sb::dump
