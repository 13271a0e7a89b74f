// Structures a dump's memory holds, read from memory built byte by byte
// (x64 and x86 layouts): PORT_MESSAGE headers and a thread blocked in a
// port call, found by its frame's name and recovered parameters (Wine
// cannot block in LPC/ALPC: the dump tests decode the fixture's message
// buffer); RPC client calls with their interface and procedure number; a
// WOW64 thread's 32-bit context in its 64-bit TEB (Wine writes no WOW64
// dumps); x86 frame-data programs in MSVC's style (the dump tests run
// clang's).
#include "switchboard/dump/PortMessage.h"
#include "switchboard/dump/RpcWait.h"
#include "switchboard/dump/Wow64.h"

#include "dump/FrameData.h"   // internal: the FPO program evaluator

#include <gtest/gtest.h>

#include <cstring>
#include <map>

namespace sb {
namespace {

// Memory at base, and more ranges added by address.
class BytesAt : public dump::MemoryReader {
public:
  BytesAt(uint64_t base, std::vector<uint8_t> bytes) { ranges_[base] = std::move(bytes); }
  void add(uint64_t base, std::vector<uint8_t> bytes) { ranges_[base] = std::move(bytes); }
  bool read(uint64_t va, void *out, size_t length) const override {
    auto it = ranges_.upper_bound(va);
    if (it == ranges_.begin())
      return false;
    --it;
    const std::vector<uint8_t> &b = it->second;
    if (va - it->first > b.size() || b.size() - (va - it->first) < length)
      return false;
    std::memcpy(out, b.data() + (va - it->first), length);
    return true;
  }

private:
  std::map<uint64_t, std::vector<uint8_t>> ranges_;
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

// An RPC client interface (x64: Length 0x60; x86: 0x44) for
// 12345678-9abc-def0-1122-334455667788 v1.2 over NDR 2.0.
std::vector<uint8_t> clientInterface(bool x64, bool ndr = true) {
  std::vector<uint8_t> b(x64 ? 0x60 : 0x44);
  put<uint32_t>(b, 0, uint32_t(b.size()));
  const uint8_t id[16] = {0x78, 0x56, 0x34, 0x12, 0xbc, 0x9a, 0xf0, 0xde, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  std::memcpy(b.data() + 4, id, 16);
  put<uint16_t>(b, 0x14, 1);
  put<uint16_t>(b, 0x16, 2);
  const uint8_t syntax[16] = {0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60};
  std::memcpy(b.data() + 0x18, syntax, 16);
  put<uint16_t>(b, 0x28, ndr ? 2 : 3);
  return b;
}

std::vector<uint8_t> pointerTo(uint64_t va, bool x64) {
  std::vector<uint8_t> b(x64 ? 8 : 4);
  std::memcpy(b.data(), &va, b.size());
  return b;
}

TEST(RpcWait, NdrClientCall2NamesTheInterfaceAndProcedure) {
  for (bool x64 : {true, false}) {
    const dump::Arch arch = x64 ? dump::Arch::X64 : dump::Arch::X86;
    BytesAt mem(0x1000, pointerTo(0x2000, x64));   // MIDL_STUB_DESC.RpcInterfaceInformation
    mem.add(0x2000, clientInterface(x64));
    // -Oif header: explicit handle, Oi_HAS_RPCFLAGS, rpc flags, procedure 7.
    mem.add(0x3000, {0x00, 0x48, 0, 0, 0, 0, 0x07, 0x00, 0x10, 0x00});
    auto w = dump::findRpcWait(stackIn("NdrClientCall2", arch), {values({0x1000, 0x3000})}, mem);
    ASSERT_TRUE(w) << x64;
    EXPECT_EQ(w->stubDescriptor, 0x1000u);
    ASSERT_TRUE(w->interface) << x64;
    EXPECT_EQ(w->interface->uuid, "12345678-9abc-def0-1122-334455667788");
    EXPECT_EQ(w->interface->versionMajor, 1);
    EXPECT_EQ(w->interface->versionMinor, 2);
    EXPECT_EQ(w->interface->transferSyntax, "NDR");
    EXPECT_EQ(w->procedure, 7u);
  }
}

TEST(RpcWait, NdrClientCall3TakesTheProcedureNumber) {
  BytesAt mem(0x4000, pointerTo(0x1000, true));   // MIDL_STUBLESS_PROXY_INFO.pStubDesc
  mem.add(0x1000, pointerTo(0x2000, true));
  mem.add(0x2000, clientInterface(true));
  auto w = dump::findRpcWait(stackIn("NdrClientCall3", dump::Arch::X64), {values({0x4000, 5, 0})}, mem);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->stubDescriptor, 0x1000u);
  ASSERT_TRUE(w->interface);
  EXPECT_EQ(w->procedure, 5u);
}

TEST(RpcWait, AnythingElseIsNotAnInterface) {
  BytesAt mem(0x2000, clientInterface(true, false));   // transfer syntax version 3: not NDR
  EXPECT_FALSE(dump::readRpcInterface(mem, 0x2000, dump::Arch::X64));
  mem.add(0x5000, clientInterface(false));              // x86's length in an x64 process
  EXPECT_FALSE(dump::readRpcInterface(mem, 0x5000, dump::Arch::X64));
  EXPECT_TRUE(dump::readRpcInterface(mem, 0x5000, dump::Arch::X86));
  // The descriptor unknown: the call and its procedure, no interface.
  mem.add(0x3000, {0x00, 0x40, 0x03, 0x00});
  auto w = dump::findRpcWait(stackIn("NdrClientCall2", dump::Arch::X64), {values({std::nullopt, 0x3000})}, mem);
  ASSERT_TRUE(w);
  EXPECT_FALSE(w->interface);
  EXPECT_EQ(w->procedure, 3u);
}

// A TEB64 whose TlsSlots[1] points to a CPU area holding a WOW64_CONTEXT.
BytesAt wow64Thread(uint32_t contextFlags, uint32_t cs) {
  constexpr uint64_t teb = 0x7ffde000, area = 0x300000;
  BytesAt mem(teb, std::vector<uint8_t>(0x2000));
  std::vector<uint8_t> slot = pointerTo(area, true);
  std::vector<uint8_t> tebBytes(0x2000);
  std::memcpy(tebBytes.data() + dump::kTeb64TlsSlot1, slot.data(), 8);
  mem.add(teb, tebBytes);
  std::vector<uint8_t> cpu(4 + 0x2CC);
  put<uint16_t>(cpu, 2, 0x14c);   // MachineType: i386
  uint8_t *c = cpu.data() + 4;
  std::memcpy(c, &contextFlags, 4);
  // Edi Esi Ebx Edx Ecx Eax Ebp Eip SegCs EFlags Esp from 0x9C.
  const uint32_t regs[] = {0xD1, 0x51, 0xB1, 0xD0, 0xC0, 0xA0, 0x19ff70, 0x401234, cs, 0x246, 0x19ff40};
  std::memcpy(c + 0x9C, regs, sizeof regs);
  mem.add(area, cpu);
  return mem;
}

TEST(Wow64, TheThreadsThirtyTwoBitContext) {
  BytesAt mem = wow64Thread(0x1003F, 0x23);   // CONTEXT_i386 | CONTEXT_ALL
  auto r = dump::wow64Context(mem, 0x7ffde000);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->arch, dump::Arch::X86);
  EXPECT_EQ(r->pc, 0x401234u);
  EXPECT_EQ(r->sp(), 0x19ff40u);
  EXPECT_EQ(r->gpr[dump::kBp], 0x19ff70u);
  EXPECT_EQ(r->gpr[dump::kBx], 0xB1u);
  EXPECT_EQ(r->gpr[dump::kSi], 0x51u);
  EXPECT_EQ(r->gpr[dump::kDi], 0xD1u);
}

TEST(Wow64, AnythingElseIsNoContext) {
  EXPECT_FALSE(dump::wow64Context(wow64Thread(0x10003F, 0x33), 0x7ffde000));   // an AMD64 context
  EXPECT_FALSE(dump::wow64Context(wow64Thread(0x1003F, 0x08), 0x7ffde000));    // a kernel code segment
  BytesAt empty(0x7ffde000, std::vector<uint8_t>(0x2000));                     // the slot is empty
  EXPECT_FALSE(dump::wow64Context(empty, 0x7ffde000));
  EXPECT_FALSE(dump::wow64Context(empty, 0));
  EXPECT_FALSE(dump::wow64Context(empty, 0x12340000));                        // the TEB is not in the dump
}

dump::Registers x86Regs(uint32_t eip, uint32_t esp, uint32_t ebp) {
  dump::Registers r;
  r.arch = dump::Arch::X86;
  r.valid = true;
  r.pc = eip;
  r.set(dump::kSp, esp);
  r.set(dump::kBp, ebp);
  r.set(dump::kBx, 0xB0);
  r.set(dump::kSi, 0x50);
  r.set(dump::kDi, 0xD0);
  return r;
}

std::vector<uint8_t> words(std::vector<uint32_t> ws) {
  std::vector<uint8_t> b(ws.size() * 4);
  std::memcpy(b.data(), ws.data(), b.size());
  return b;
}

const dump::ReturnCheck kAnyCode = [](uint64_t ret, uint64_t) { return ret >= 0x401000 && ret < 0x402000; };

TEST(FrameData, MsvcFramePointerProgram) {
  // EBP frame, ebx and esi saved below it: [ebp] = caller's ebp, [ebp+4] = return.
  BytesAt mem(0x1000, words({0xE51 /* esi */, 0xEB1 /* ebx */, 0x2000 /* saved ebp */, 0x401234}));
  pdb::FrameRecord r{0x1000, 0x100, 0x10, 8,
                     "$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + = $ebx $T0 4 - ^ = $esi $T0 8 - ^ ="};
  // esi at 0x1000, ebx at 0x1004, saved ebp at 0x1008: ebp = 0x1008.
  auto s = dump::runFrameProgram(r, x86Regs(0x401100, 0x0FF0, 0x1008), mem, kAnyCode);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->how, dump::StepHow::FrameData);
  EXPECT_EQ(s->caller.pc, 0x401234u);
  EXPECT_EQ(s->caller.sp(), 0x1010u);
  EXPECT_EQ(s->caller.gpr[dump::kBp], 0x2000u);
  EXPECT_EQ(s->caller.gpr[dump::kBx], 0xEB1u);
  EXPECT_EQ(s->caller.gpr[dump::kSi], 0xE51u);
  EXPECT_EQ(s->caller.gpr[dump::kDi], 0xD0u);   // not saved: unchanged
  EXPECT_EQ(s->returnSlot, 0x100Cu);
  EXPECT_FALSE(s->caller.isKnown(dump::kAx));
}

TEST(FrameData, RaSearchSkipsWhatIsNoReturnAddress) {
  // FPO: locals 8, one saved register (ebx); the search starts at 0x100C,
  // which holds no return address; the next slot does.
  BytesAt mem(0x1000, words({0, 0, 0xEB1, 0x77, 0x401300}));
  pdb::FrameRecord r{0x1000, 0x100, 8, 4,
                     "$T0 .raSearch = $eip $T0 ^ = $esp $T0 4 + = $ebx $T0 8 - ^ ="};
  auto s = dump::runFrameProgram(r, x86Regs(0x401100, 0x1000, 0x5555), mem, kAnyCode);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->caller.pc, 0x401300u);
  EXPECT_EQ(s->returnSlot, 0x1010u);
  EXPECT_EQ(s->caller.gpr[dump::kBx], 0xEB1u);   // [$T0 - 8]
}

TEST(FrameData, AlignmentAndBadPrograms) {
  BytesAt mem(0x1000, words({0x401400, 0, 0, 0}));
  // Stack realignment: $T1 = ($esp + 0xC) @ 16.
  pdb::FrameRecord aligned{0x1000, 0x100, 0, 0, "$T1 $esp 12 + 16 @ = $eip $T1 ^ = $esp $T1 4 + ="};
  auto s = dump::runFrameProgram(aligned, x86Regs(0x401100, 0x0FF8, 0), mem, kAnyCode);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->caller.pc, 0x401400u);
  for (const char *bad : {"$eip $esp ^", "= =", "$T0 $nosuch = $eip $T0 ^ = $esp $T0 4 + =", "$eip 1 0 / =",
                          "$T0 $esp = $eip $T0 ^ =", "$T0 0x zz"}) {
    pdb::FrameRecord r{0x1000, 0x100, 0, 0, bad};
    EXPECT_FALSE(dump::runFrameProgram(r, x86Regs(0x401100, 0x1000, 0), mem, kAnyCode)) << bad;
  }
  auto record = [](uint32_t rva, uint32_t size) {
    pdb::FrameRecord r;
    r.rva = rva;
    r.size = size;
    return r;
  };
  const std::vector<pdb::FrameRecord> records = {record(0x1000, 0x10), record(0x1003, 0x0D), record(0x2000, 0x10)};
  EXPECT_EQ(dump::frameRecordFor(records, 0x1002), &records[0]);
  EXPECT_EQ(dump::frameRecordFor(records, 0x1005), &records[1]);
  EXPECT_EQ(dump::frameRecordFor(records, 0x1800), nullptr);
  EXPECT_EQ(dump::frameRecordFor(records, 0x0FFF), nullptr);
}

} // namespace
} // namespace sb
