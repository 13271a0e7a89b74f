// PORT_MESSAGE (ntlpcapi.h): u1 {DataLength, TotalLength}, u2 {Type,
// DataInfoOffset}, ClientId {UniqueProcess, UniqueThread}, MessageId, then a
// union of ClientViewSize and CallbackId; pointers and SIZE_T are the
// process's width, and ClientId is 8-aligned on both (a double in the union).
#include "switchboard/dump/PortMessage.h"

#include "switchboard/support/ByteReader.h"

#include <algorithm>
#include <array>

namespace sb::dump {
namespace {

constexpr uint32_t kMaxPortMessage = 0x10000;

struct PortApi {
  const char *name;
  // The parameters holding message buffers, in the order shown: the first
  // non-null one is the message.
  std::array<std::pair<int, const char *>, 2> buffers;
};

// The port calls a thread waits in, and where their buffers are.
constexpr PortApi kPortApis[] = {
    {"NtRequestWaitReplyPort", {{{1, "request"}, {2, "reply"}}}},
    {"NtReplyWaitReceivePort", {{{2, "reply"}, {3, "receive"}}}},
    {"NtReplyWaitReceivePortEx", {{{2, "reply"}, {3, "receive"}}}},
    {"NtReplyWaitReplyPort", {{{1, "reply"}, {-1, ""}}}},
    {"NtAlpcSendWaitReceivePort", {{{2, "send"}, {4, "receive"}}}},
};

const PortApi *portApi(const std::string &name) {
  std::string n = name;
  if (n.rfind("Zw", 0) == 0)
    n = "Nt" + n.substr(2);
  for (const PortApi &a : kPortApis)
    if (n == a.name)
      return &a;
  return nullptr;
}

} // namespace

const char *PortMessage::typeName() const {
  static const char *const kNames[] = {"UNUSED_MSG_TYPE", "LPC_REQUEST", "LPC_REPLY", "LPC_DATAGRAM",
                                       "LPC_LOST_REPLY", "LPC_PORT_CLOSED", "LPC_CLIENT_DIED", "LPC_EXCEPTION",
                                       "LPC_DEBUG_EVENT", "LPC_ERROR_EVENT", "LPC_CONNECTION_REQUEST"};
  const unsigned t = type & 0xFF;
  return t < std::size(kNames) ? kNames[t] : "unknown";
}

size_t portMessageHeaderSize(Arch arch) { return arch == Arch::X64 ? 0x28 : 0x18; }

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
    const PortApi *api = f.symbol ? portApi(f.symbol->function) : nullptr;
    if (!api)
      continue;
    auto value = [&](int i) { return i < 0 ? std::nullopt : paramValue(params, f.index, size_t(i)); };
    PortWait w;
    w.frame = f.index;
    w.api = f.symbol->function;
    w.port = value(0);
    for (const auto &[index, role] : api->buffers) {
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
