// The WOW64 context behind a thread's 64-bit TEB (see Wow64.h).
#include "switchboard/dump/Wow64.h"

#include "Streams.h"

#include "switchboard/support/ByteReader.h"

#include <array>

namespace sb::dump {
namespace {

constexpr uint32_t kContextI386 = 0x00010000, kContextControl = 0x1;
constexpr size_t kWow64ContextSize = 0x2CC;
constexpr uint64_t kContextInCpuArea = 4;   // after USHORT Flags, USHORT MachineType
constexpr size_t kSegCs = 0xBC;

} // namespace

std::optional<Registers> wow64Context(const MemoryReader &memory, uint64_t teb64) {
  if (!teb64)
    return std::nullopt;
  auto area = memory.pointer(teb64 + kTeb64TlsSlot1, 8);
  if (!area || !*area)
    return std::nullopt;
  std::array<uint8_t, kWow64ContextSize> c{};
  if (!memory.read(*area + kContextInCpuArea, c.data(), c.size()))
    return std::nullopt;
  const ByteReader bytes(c);
  const uint32_t flags = *bytes.u32(0), cs = *bytes.u32(kSegCs);
  if ((flags & (kContextI386 | kContextControl)) != (kContextI386 | kContextControl) || (cs & 3) != 3)
    return std::nullopt;
  Registers r = decodeContext(Arch::X86, c);
  if (!r.valid || r.pc == 0 || r.sp() == 0)
    return std::nullopt;
  return r;
}

} // namespace sb::dump
