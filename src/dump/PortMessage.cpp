// PORT_MESSAGE (ntlpcapi.h): u1 {DataLength, TotalLength}, u2 {Type,
// DataInfoOffset}, ClientId {UniqueProcess, UniqueThread}, MessageId, then a
// union of ClientViewSize and CallbackId; pointers and SIZE_T are the
// process's width, and ClientId is 8-aligned on both (a double in the union).
#include "switchboard/dump/PortMessage.h"

#include "switchboard/ports/PortApi.h"
#include "switchboard/support/ByteReader.h"

#include <algorithm>
#include <array>

namespace sb::dump {
namespace {

constexpr uint32_t kMaxPortMessage = 0x10000;

} // namespace

const char *PortMessage::typeName() const { return ports::portMessageTypeName(type); }

size_t portMessageHeaderSize(Arch arch) { return ports::portMessageHeaderSize(arch == Arch::X64); }

std::optional<PortMessage> readPortMessage(const MemoryReader &memory, uint64_t va, Arch arch) {
  const bool x64 = arch == Arch::X64;
  const unsigned width = x64 ? 8 : 4;
  const size_t size = portMessageHeaderSize(arch);
  std::array<uint8_t, 0x28> bytes{};
  if (va == 0 || !memory.read(va, bytes.data(), size))
    return std::nullopt;
  const ByteReader h(std::span<const uint8_t>(bytes.data(), size));
  auto word = [&](size_t at) { return x64 ? *h.u64(at) : *h.u32(at); };
  PortMessage m;
  m.address = va;
  m.dataLength = *h.u16(0);
  m.totalLength = *h.u16(2);
  m.type = *h.u16(4);
  m.dataInfoOffset = *h.u16(6);
  m.uniqueProcess = word(8);
  m.uniqueThread = word(8 + width);
  m.messageId = *h.u32(8 + 2 * width);
  m.clientViewSize = word(x64 ? 0x20 : 0x14);
  if (m.totalLength < size + m.dataLength || m.totalLength > kMaxPortMessage)
    return std::nullopt;
  m.data.resize(std::min<size_t>(m.dataLength, PortMessage::kShownBytes));
  if (!m.data.empty() && !memory.read(va + size, m.data.data(), m.data.size()))
    m.data.clear();
  return m;
}

std::optional<PortWait> findPortWait(const ThreadStack &stack, const std::vector<std::vector<RecoveredParam>> &params,
                                     const MemoryReader &memory) {
  for (const StackFrame &f : stack.frames) {
    const ports::PortApi *api = f.symbol ? ports::findPortApi(f.symbol->function) : nullptr;
    if (!api || !api->waits)
      continue;
    auto value = [&](int i) { return i < 0 ? std::nullopt : paramValue(params, f.index, size_t(i)); };
    PortWait w;
    w.frame = f.index;
    w.api = f.symbol->function;
    w.port = value(0);
    for (const auto &[index, role] : api->buffers) {
      if (index < 0)
        break;
      auto at = value(index);
      if (!at || *at == 0)
        continue;
      w.role = role;
      w.messageAddress = at;
      w.message = readPortMessage(memory, *at, f.regs.arch);
      break;
    }
    return w;
  }
  return std::nullopt;
}

} // namespace sb::dump
