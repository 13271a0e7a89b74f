// The on-disk (and in-memory) layouts of MIDL's RPC structures (rpcdcep.h,
// rpcndr.h), shared by the image analysis (rpc/) and the dump reader
// (dump/RpcWait): the interface header, the transfer syntaxes, the client
// call APIs and how each names its procedure.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sb::rpc::layout {

// 8a885d04-1ceb-11c9-9fe8-08002b104860 v2.0 and 71710533-beba-4937-8319-
// b5dbef9ccc36 v1.0, as their bytes lie in memory (the first three fields
// little-endian).
inline constexpr std::array<uint8_t, 16> kNdrSyntax = {0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9, 0x11,
                                                       0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60};
inline constexpr std::array<uint8_t, 16> kNdr64Syntax = {0x33, 0x05, 0x71, 0x71, 0xba, 0xbe, 0x37, 0x49,
                                                         0x83, 0x19, 0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36};

// RPC_SERVER_INTERFACE and RPC_CLIENT_INTERFACE (one layout):
//   UINT Length; RPC_SYNTAX_IDENTIFIER InterfaceId, TransferSyntax (GUID,
//   USHORT major, minor); PRPC_DISPATCH_TABLE DispatchTable;
//   UINT RpcProtseqEndpointCount; PRPC_PROTSEQ_ENDPOINT RpcProtseqEndpoint;
//   RPC_MGR_EPV *DefaultManagerEpv; const void *InterpreterInfo; UINT Flags.
inline constexpr size_t kInterfaceHeaderSize = 0x2C;   // Length, InterfaceId, TransferSyntax
inline uint32_t interfaceLength(bool is64) { return is64 ? 0x60 : 0x44; }
struct InterfaceFields {
  size_t dispatchTable, endpointCount, endpoints, managerEpv, interpreterInfo, flags;
};
inline InterfaceFields interfaceFields(bool is64) {
  return is64 ? InterfaceFields{0x30, 0x38, 0x40, 0x48, 0x50, 0x58} : InterfaceFields{0x2C, 0x30, 0x34, 0x38, 0x3C, 0x40};
}

struct InterfaceHeader {
  std::string uuid;            // lower case, no braces, as IDL writes it
  uint16_t versionMajor = 0, versionMinor = 0;
  std::string transferSyntax;  // "NDR", "NDR64"
};
// The first kInterfaceHeaderSize bytes of an interface: nullopt unless Length
// is the architecture's and the transfer syntax NDR 2.0 or NDR64 1.0.
std::optional<InterfaceHeader> decodeInterfaceHeader(std::span<const uint8_t> bytes, bool is64);

// The procedure number's offset in an -Oi/-Oif procedure header: handle
// type, Oi flags, the rpc flags when Oi_HAS_RPCFLAGS, then the number.
inline constexpr uint8_t kOiHasRpcFlags = 0x08;
inline size_t procNumberOffset(uint8_t oiFlags) { return (oiFlags & kOiHasRpcFlags) ? 6 : 2; }

// How each client-call API names its interface and procedure.
enum class CallForm : uint8_t {
  DescriptorAndFormat,   // (PMIDL_STUB_DESC, PFORMAT_STRING, ...)
  ProxyInfoAndNumber,    // (PMIDL_STUBLESS_PROXY_INFO, ULONG nProcNum, ...)
  ExplicitInitialize,    // NdrClientInitializeNew(PRPC_MESSAGE, PMIDL_STUB_MESSAGE, PMIDL_STUB_DESC, UINT ProcNum)
};
struct ClientCallApi {
  const char *name;
  CallForm form;
};
inline constexpr ClientCallApi kClientCallApis[] = {
    {"NdrClientCall", CallForm::DescriptorAndFormat},      {"NdrClientCall2", CallForm::DescriptorAndFormat},
    {"NdrClientCall4", CallForm::DescriptorAndFormat},     {"NdrAsyncClientCall", CallForm::DescriptorAndFormat},
    {"NdrAsyncClientCall2", CallForm::DescriptorAndFormat}, {"NdrClientCall3", CallForm::ProxyInfoAndNumber},
    {"Ndr64AsyncClientCall", CallForm::ProxyInfoAndNumber}, {"NdrClientInitializeNew", CallForm::ExplicitInitialize},
    {"NdrClientInitialize", CallForm::ExplicitInitialize},
};
inline const ClientCallApi *clientCallApi(std::string_view name) {
  for (const ClientCallApi &c : kClientCallApis)
    if (name == c.name)
      return &c;
  return nullptr;
}

} // namespace sb::rpc::layout
