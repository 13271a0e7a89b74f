// Knowledge of the native LPC/ALPC port API (ntdll's Nt*/Zw* port calls, as
// declared in ntlpcapi.h / ntalpcapi.h) and of PORT_MESSAGE: which argument
// names the port, which hold message buffers and in what role. Shared by the
// static port model (ports::findPorts) and the dump's blocked-thread view
// (dump::findPortWait), so both read the same table.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <utility>

namespace sb::ports {

enum class Op : uint8_t { Create, Connect, Accept, Send, Receive, Reply, Listen };
const char *opName(Op o);   // "create", "connect", "accept", "send", "receive", "reply", "listen"

// Where a call's port name is: in the OBJECT_ATTRIBUTES' ObjectName, or a
// UNICODE_STRING argument of its own.
enum class NameFrom : uint8_t { None, ObjectAttributes, UnicodeString };

struct PortApi {
  const char *name;   // the Nt spelling; the Zw one is the same call
  Op op;
  bool alpc;
  NameFrom from;
  int nameArg;        // the OBJECT_ATTRIBUTES or UNICODE_STRING argument (-1: none)
  // The message-buffer arguments in the order a waiting thread shows them
  // (the first non-null is the message), each with its role; -1: unused.
  std::array<std::pair<int, const char *>, 2> buffers;
  bool waits;         // the calling thread blocks in it (a dump shows it waiting)
  int receiveArg() const;   // the buffer received into, -1 when none
};

// The entry for an Nt* or Zw* name; nullptr for anything else.
const PortApi *findPortApi(std::string_view name);

// PORT_MESSAGE: u1 {DataLength, TotalLength}, u2 {Type, DataInfoOffset},
// ClientId, MessageId, ClientViewSize|CallbackId; 0x28 bytes on x64, 0x18 on
// x86. Type's low byte is the kind (LPC_REQUEST, ...), the rest flags.
constexpr uint32_t portMessageHeaderSize(bool is64) { return is64 ? 0x28 : 0x18; }
constexpr uint32_t kPortMessageTypeOffset = 4;
// "LPC_REQUEST", "LPC_REPLY", ... for Type's low byte; "unknown" past them.
const char *portMessageTypeName(unsigned type);

} // namespace sb::ports
