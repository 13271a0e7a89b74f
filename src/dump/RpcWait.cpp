// RPC client calls in a dump. Layouts (rpcdcep.h, rpcndr.h):
//   MIDL_STUB_DESC { void *RpcInterfaceInformation; ... }
//   MIDL_STUBLESS_PROXY_INFO { PMIDL_STUB_DESC pStubDesc; ... }
//   RPC_CLIENT_INTERFACE { UINT Length; RPC_SYNTAX_IDENTIFIER InterfaceId
//     (GUID, USHORT major, minor); RPC_SYNTAX_IDENTIFIER TransferSyntax; ... }
#include "switchboard/dump/RpcWait.h"

#include "switchboard/support/ByteReader.h"
#include "switchboard/support/Text.h"

#include <algorithm>
#include <array>

namespace sb::dump {
namespace {

constexpr uint8_t kOiHasRpcFlags = 0x08;

// 8a885d04-1ceb-11c9-9fe8-08002b104860 v2.0 and 71710533-beba-4937-8319-b5dbef9ccc36
// v1.0, as their bytes lie in memory (the first three fields little-endian).
constexpr std::array<uint8_t, 16> kNdr = {0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
                                          0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60};
constexpr std::array<uint8_t, 16> kNdr64 = {0x33, 0x05, 0x71, 0x71, 0xba, 0xbe, 0x37, 0x49,
                                            0x83, 0x19, 0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36};

// How each client-call API names its interface and procedure.
enum class Form : uint8_t {
  DescriptorAndFormat,   // (PMIDL_STUB_DESC, PFORMAT_STRING, ...)
  ProxyInfoAndNumber,    // (PMIDL_STUBLESS_PROXY_INFO, ULONG nProcNum, ...)
};
struct ClientCall {
  const char *name;
  Form form;
};
constexpr ClientCall kClientCalls[] = {
    {"NdrClientCall", Form::DescriptorAndFormat},      {"NdrClientCall2", Form::DescriptorAndFormat},
    {"NdrClientCall4", Form::DescriptorAndFormat},     {"NdrAsyncClientCall", Form::DescriptorAndFormat},
    {"NdrClientCall3", Form::ProxyInfoAndNumber},      {"Ndr64AsyncClientCall", Form::ProxyInfoAndNumber},
    {"NdrAsyncClientCall2", Form::DescriptorAndFormat},
};

const ClientCall *clientCall(const std::string &name) {
  for (const ClientCall &c : kClientCalls)
    if (name == c.name)
      return &c;
  return nullptr;
}

} // namespace

std::optional<RpcInterface> readRpcInterface(const MemoryReader &memory, uint64_t va, Arch arch) {
  // Length, InterfaceId (GUID, major, minor), TransferSyntax (GUID, major, minor).
  std::array<uint8_t, 0x2C> bytes{};
  if (va == 0 || !memory.read(va, bytes.data(), bytes.size()))
    return std::nullopt;
  const ByteReader b(bytes);
  if (*b.u32(0) != (arch == Arch::X64 ? 0x60u : 0x44u))
    return std::nullopt;
  RpcInterface i;
  i.address = va;
  i.versionMajor = *b.u16(0x14);
  i.versionMinor = *b.u16(0x16);
  const std::span<const uint8_t, 16> syntax(bytes.data() + 0x18, 16);
  const uint16_t syntaxMajor = *b.u16(0x28);
  if (std::equal(syntax.begin(), syntax.end(), kNdr.begin()) && syntaxMajor == 2)
    i.transferSyntax = "NDR";
  else if (std::equal(syntax.begin(), syntax.end(), kNdr64.begin()) && syntaxMajor == 1)
    i.transferSyntax = "NDR64";
  else
    return std::nullopt;
  // As IDL writes it: uuid(12345678-9abc-...), lower case, no braces.
  const std::string registry = formatGuid(std::span<const uint8_t, 16>(bytes.data() + 4, 16));
  i.uuid = toLower(std::string_view(registry).substr(1, registry.size() - 2));
  return i;
}

std::optional<unsigned> procedureNumberAt(const MemoryReader &memory, uint64_t va) {
  uint8_t h[2] = {}, n[2] = {};
  if (va == 0 || !memory.read(va, h, sizeof h) || !memory.read(va + ((h[1] & kOiHasRpcFlags) ? 6 : 2), n, sizeof n))
    return std::nullopt;
  return unsigned(n[0] | n[1] << 8);
}

std::optional<RpcWait> findRpcWait(const ThreadStack &stack, const std::vector<std::vector<RecoveredParam>> &params,
                                   const MemoryReader &memory) {
  for (const StackFrame &f : stack.frames) {
    const ClientCall *call = f.symbol ? clientCall(f.symbol->function) : nullptr;
    if (!call)
      continue;
    auto value = [&](size_t i) { return paramValue(params, f.index, i); };
    const unsigned width = f.regs.arch == Arch::X64 ? 8 : 4;
    RpcWait w;
    w.frame = f.index;
    w.api = f.symbol->function;
    if (call->form == Form::DescriptorAndFormat) {
      w.stubDescriptor = value(0);
      if (auto format = value(1))
        w.procedure = procedureNumberAt(memory, *format);
    } else {
      if (auto proxy = value(0))
        w.stubDescriptor = memory.pointer(*proxy, width);
      if (auto n = value(1))
        w.procedure = unsigned(*n & 0xFFFF);
    }
    if (w.stubDescriptor)
      if (auto info = memory.pointer(*w.stubDescriptor, width))
        w.interface = readRpcInterface(memory, *info, f.regs.arch);
    return w;
  }
  return std::nullopt;
}

} // namespace sb::dump
