// A thread blocked in an RPC client call: NdrClientCall2/4 (stub
// descriptor, procedure format string), NdrClientCall3 and
// Ndr64AsyncClientCall (proxy info, procedure number), NdrClientCall and
// NdrAsyncClientCall (the older descriptor-and-format forms). The interface
// comes from the stub descriptor's RPC_CLIENT_INTERFACE (its UUID and
// version, and the transfer syntax), the procedure number from the
// argument or the procedure's -Oi header in the format string, all read
// from the dump at the addresses the call's recovered parameters hold.
#pragma once
#include "switchboard/dump/Params.h"

#include <optional>
#include <string>

namespace sb::dump {

struct RpcInterface {
  uint64_t address = 0;             // the RPC_CLIENT_INTERFACE
  std::string uuid;                 // "12345678-1234-abcd-ef00-0123456789ab"
  uint16_t versionMajor = 0, versionMinor = 0;
  std::string transferSyntax;       // "NDR", "NDR64"
};

struct RpcWait {
  unsigned frame = 0;
  std::string api;
  std::optional<uint64_t> stubDescriptor;   // the MIDL_STUB_DESC
  std::optional<RpcInterface> interface;    // when the descriptor's interface is readable and well-formed
  std::optional<unsigned> procedure;        // the procedure number (opnum)
};

// The RPC_CLIENT_INTERFACE at va: Length must be the arch's (0x60 x64, 0x44
// x86) and the transfer syntax NDR 2.0 or NDR64 1.0.
std::optional<RpcInterface> readRpcInterface(const MemoryReader &memory, uint64_t va, Arch arch);

// The procedure number in an -Oi/-Oif procedure header at va: handle type,
// Oi flags, the rpc flags when Oi_HAS_RPCFLAGS, then the number.
std::optional<unsigned> procedureNumberAt(const MemoryReader &memory, uint64_t va);

// params: recoverParams' result for the stack.
std::optional<RpcWait> findRpcWait(const ThreadStack &stack, const std::vector<std::vector<RecoveredParam>> &params,
                                   const MemoryReader &memory);

} // namespace sb::dump
