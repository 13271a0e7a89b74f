// LPC/ALPC messages in a dump: the PORT_MESSAGE header a thread blocked in a
// port call sends or receives (what WinDbg's `!alpc /m` shows), read from
// the dump's memory at the address the call's parameter holds.
#pragma once
#include "switchboard/dump/Params.h"

#include <optional>
#include <string>
#include <vector>

namespace sb::dump {

struct PortMessage {
  uint64_t address = 0;
  uint16_t dataLength = 0, totalLength = 0;   // u1: the payload's and the whole message's bytes
  uint16_t type = 0, dataInfoOffset = 0;      // u2
  uint64_t uniqueProcess = 0, uniqueThread = 0;   // ClientId
  uint32_t messageId = 0;
  uint64_t clientViewSize = 0;                // a union with CallbackId (its low 32 bits)
  std::vector<uint8_t> data;                  // the payload's first bytes (at most kShownBytes)
  static constexpr size_t kShownBytes = 64;
  uint32_t callbackId() const { return uint32_t(clientViewSize); }
  // "LPC_REQUEST", "LPC_REPLY", ... for the low byte of Type (the rest are flags).
  const char *typeName() const;
};

// The header's size: 0x28 on x64, 0x18 on x86.
size_t portMessageHeaderSize(Arch arch);

// The PORT_MESSAGE at va; nullopt when the header is unreadable or its
// lengths are not a message's (TotalLength below the header plus DataLength,
// or above the 64 KB a port carries).
std::optional<PortMessage> readPortMessage(const MemoryReader &memory, uint64_t va, Arch arch);

// A thread blocked in NtRequestWaitReplyPort / NtReplyWaitReceivePort /
// NtReplyWaitReplyPort / NtAlpcSendWaitReceivePort (or their Zw names).
struct PortWait {
  unsigned frame = 0;
  std::string api;
  std::optional<uint64_t> port;          // the port handle, as recovered
  std::string role;                      // "request", "reply", "send", "receive": which buffer is shown
  std::optional<uint64_t> messageAddress;
  std::optional<PortMessage> message;    // decoded, when the buffer is readable and well-formed
};

// params: recoverParams' result for the stack (no values: no message).
std::optional<PortWait> findPortWait(const ThreadStack &stack, const std::vector<std::vector<RecoveredParam>> &params,
                                     const MemoryReader &memory);

} // namespace sb::dump
