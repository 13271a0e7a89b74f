// RPC client calls in a dump. Layouts (rpcdcep.h, rpcndr.h):
//   MIDL_STUB_DESC { void *RpcInterfaceInformation; ... }
//   MIDL_STUBLESS_PROXY_INFO { PMIDL_STUB_DESC pStubDesc; ... }
//   RPC_CLIENT_INTERFACE { UINT Length; RPC_SYNTAX_IDENTIFIER InterfaceId
//     (GUID, USHORT major, minor); RPC_SYNTAX_IDENTIFIER TransferSyntax; ... }
#include "switchboard/dump/RpcWait.h"

#include "rpc/Layout.h"

#include <algorithm>
#include <array>

namespace sb::dump {

using rpc::layout::CallForm;

std::optional<RpcInterface> readRpcInterface(const MemoryReader &memory, uint64_t va, Arch arch) {
  std::array<uint8_t, rpc::layout::kInterfaceHeaderSize> bytes{};
  if (va == 0 || !memory.read(va, bytes.data(), bytes.size()))
    return std::nullopt;
  auto h = rpc::layout::decodeInterfaceHeader(bytes, arch == Arch::X64);
  if (!h)
    return std::nullopt;
  RpcInterface i;
  i.address = va;
  i.uuid = std::move(h->uuid);
  i.versionMajor = h->versionMajor;
  i.versionMinor = h->versionMinor;
  i.transferSyntax = std::move(h->transferSyntax);
  return i;
}

std::optional<unsigned> procedureNumberAt(const MemoryReader &memory, uint64_t va) {
  uint8_t h[2] = {}, n[2] = {};
  if (va == 0 || !memory.read(va, h, sizeof h) || !memory.read(va + rpc::layout::procNumberOffset(h[1]), n, sizeof n))
    return std::nullopt;
  return unsigned(n[0] | n[1] << 8);
}

std::optional<RpcWait> findRpcWait(const ThreadStack &stack, const std::vector<std::vector<RecoveredParam>> &params,
                                   const MemoryReader &memory) {
  for (const StackFrame &f : stack.frames) {
    const rpc::layout::ClientCallApi *call = f.symbol ? rpc::layout::clientCallApi(f.symbol->function) : nullptr;
    if (!call || call->form == CallForm::ExplicitInitialize)
      continue;
    auto value = [&](size_t i) { return paramValue(params, f.index, i); };
    const unsigned width = f.regs.arch == Arch::X64 ? 8 : 4;
    RpcWait w;
    w.frame = f.index;
    w.api = f.symbol->function;
    if (call->form == CallForm::DescriptorAndFormat) {
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
