// PORT_MESSAGE headers read from memory built byte by byte (x64 and x86
// layouts), and a thread blocked in a port call found by its frame's name
// and recovered parameters: Wine cannot block in LPC/ALPC, so these are the
// tests of the port-wait path; the dump tests decode the fixture's message.
#include "switchboard/dump/PortMessage.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

namespace sb {
namespace {

class BytesAt : public dump::MemoryReader {
public:
  BytesAt(uint64_t base, std::vector<uint8_t> bytes) : base_(base), bytes_(std::move(bytes)) {}
  bool read(uint64_t va, void *out, size_t length) const override {
    if (va < base_ || va - base_ > bytes_.size() || bytes_.size() - (va - base_) < length)
      return false;
    std::memcpy(out, bytes_.data() + (va - base_), length);
    return true;
  }

private:
  uint64_t base_;
  std::vector<uint8_t> bytes_;
};

template <class T> void put(std::vector<uint8_t> &b, size_t at, T v) { std::memcpy(b.data() + at, &v, sizeof v); }

// A request carrying "hello, port" after the header.
std::vector<uint8_t> message(bool x64) {
  const size_t header = x64 ? 0x28 : 0x18;
  const char payload[] = "hello, port";
  std::vector<uint8_t> b(header + sizeof payload);
  put<uint16_t>(b, 0, uint16_t(sizeof payload));
  put<uint16_t>(b, 2, uint16_t(header + sizeof payload));
  put<uint16_t>(b, 4, 1);   // LPC_REQUEST
  if (x64) {
    put<uint64_t>(b, 8, 0x20);
    put<uint64_t>(b, 0x10, 0x118);
    put<uint32_t>(b, 0x18, 0x77);
    put<uint64_t>(b, 0x20, 0x1234);
  } else {
    put<uint32_t>(b, 8, 0x20);
    put<uint32_t>(b, 0xC, 0x118);
    put<uint32_t>(b, 0x10, 0x77);
    put<uint32_t>(b, 0x14, 0x1234);
  }
  std::memcpy(b.data() + header, payload, sizeof payload);
  return b;
}

TEST(PortMessage, HeaderFieldsOnBothArchitectures) {
  for (bool x64 : {true, false}) {
    BytesAt mem(0x10000, message(x64));
    auto m = dump::readPortMessage(mem, 0x10000, x64 ? dump::Arch::X64 : dump::Arch::X86);
    ASSERT_TRUE(m) << x64;
    EXPECT_EQ(m->dataLength, 12);
    EXPECT_EQ(m->totalLength, (x64 ? 0x28 : 0x18) + 12);
    EXPECT_STREQ(m->typeName(), "LPC_REQUEST");
    EXPECT_EQ(m->uniqueProcess, 0x20u);
    EXPECT_EQ(m->uniqueThread, 0x118u);
    EXPECT_EQ(m->messageId, 0x77u);
    EXPECT_EQ(m->callbackId(), 0x1234u);
    EXPECT_EQ(std::string(m->data.begin(), m->data.end() - 1), "hello, port");
  }
}

TEST(PortMessage, ImplausibleLengthsAreNotAMessage) {
  std::vector<uint8_t> b = message(true);
  put<uint16_t>(b, 2, 0x10);   // TotalLength below the header
  BytesAt mem(0x10000, b);
  EXPECT_FALSE(dump::readPortMessage(mem, 0x10000, dump::Arch::X64));
  EXPECT_FALSE(dump::readPortMessage(mem, 0x20000, dump::Arch::X64));   // unreadable
  EXPECT_FALSE(dump::readPortMessage(mem, 0, dump::Arch::X64));
}

dump::ThreadStack stackIn(const std::string &api, dump::Arch arch) {
  dump::ThreadStack s;
  dump::StackFrame f;
  f.regs.arch = arch;
  f.symbol = dump::LoadedModule::Symbol{api, 0x14, ""};
  s.frames.push_back(f);
  return s;
}

std::vector<dump::RecoveredParam> values(std::vector<std::optional<uint64_t>> vs) {
  std::vector<dump::RecoveredParam> out;
  for (size_t i = 0; i < vs.size(); ++i) {
    dump::RecoveredParam p;
    p.index = unsigned(i);
    p.value = vs[i];
    out.push_back(p);
  }
  return out;
}

TEST(PortMessage, ThreadBlockedInAPortCall) {
  BytesAt mem(0x10000, message(true));
  // ZwRequestWaitReplyPort(port, request, reply): the request is shown.
  auto w = dump::findPortWait(stackIn("ZwRequestWaitReplyPort", dump::Arch::X64),
                              {values({0x44, 0x10000, 0x20000})}, mem);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->api, "ZwRequestWaitReplyPort");
  EXPECT_EQ(w->port, 0x44u);
  EXPECT_EQ(w->role, "request");
  ASSERT_TRUE(w->message);
  EXPECT_EQ(w->message->messageId, 0x77u);
  // NtAlpcSendWaitReceivePort(port, flags, send = NULL, attrs, receive, ...):
  // the receive buffer.
  w = dump::findPortWait(stackIn("NtAlpcSendWaitReceivePort", dump::Arch::X64),
                         {values({0x48, 0, 0, 0, 0x10000, 0, 0, 0})}, mem);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->role, "receive");
  ASSERT_TRUE(w->message);
  // The buffer's address unknown: the wait, without a message.
  w = dump::findPortWait(stackIn("NtReplyWaitReceivePort", dump::Arch::X64), {values({0x4c, std::nullopt})}, mem);
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->messageAddress);
  EXPECT_FALSE(w->message);
  // Not a port call.
  EXPECT_FALSE(dump::findPortWait(stackIn("NtWaitForSingleObject", dump::Arch::X64), {values({1, 2})}, mem));
}

} // namespace
} // namespace sb
