// Microsoft RPC in one image: the interfaces it serves and calls
// (RPC_SERVER_INTERFACE / RPC_CLIENT_INTERFACE, found by their shape and
// from RpcServerRegisterIf* arguments), each procedure's server routine or
// client stub with its NDR procedure format decoded to IDL, every client call
// site (NdrClientCall2/3/4, the async forms, explicit NdrClientInitializeNew
// stubs) with its interface and procedure number, registrations, endpoints
// and binding strings. A session model (Analysis::rpc); linkRpc joins the
// client calls of several images to the server routines of others.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sb { class Analysis; }

namespace sb::rpc {

enum class Role : uint8_t { Server, Client };
const char *roleName(Role r);   // "server", "client"

// How the procedures' stubs are made: interpreted from the format strings
// (-Oif: NdrServerCall2 in the dispatch table, NdrClientCall2 in the client
// stubs) or explicit code (/Os: a stub per procedure that unmarshals and
// calls the manager routine, or NdrClientInitializeNew ... NdrSendReceive).
enum class StubStyle : uint8_t { Unknown, Interpreted, Explicit };
const char *stubStyleName(StubStyle s);   // "unknown", "interpreted", "explicit"

struct Procedure {
  unsigned opnum = 0;
  // Server: the manager routine (from the MIDL_SERVER_INFO dispatch table,
  // or the routine an explicit stub calls); client: the stub function that
  // makes the call. 0: not found.
  uint32_t rva = 0;
  uint32_t stubRva = 0;       // server: the RPC_DISPATCH_TABLE entry's function (an explicit stub; 0 when interpreted)
  uint32_t formatRva = 0;     // the procedure's -Oi/-Oif format string (0: none)
  std::optional<unsigned> params;   // parameters (with the return value) the format string lists
  std::string idl;            // "long Proc3([in] handle_t IDL_handle, [in] long arg1)"; empty when undecodable
  std::string name;           // the routine's symbol or recovered name ("<iface>_Opnum3" style is the caller's)
};

// A call of RpcServerRegisterIf / RpcServerRegisterIf2/3 / RpcServerRegisterIfEx.
struct Registration {
  uint32_t siteRva = 0;
  std::string api;
  std::optional<uint64_t> flags, maxCalls;
  uint32_t securityCallbackRva = 0;   // 0: none or unknown
};

struct Interface {
  uint32_t rva = 0;                 // the RPC_SERVER_INTERFACE / RPC_CLIENT_INTERFACE
  std::string uuid;                 // "6d1a2b3c-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
  uint16_t versionMajor = 0, versionMinor = 0;
  Role role = Role::Client;
  std::string transferSyntax;       // "NDR" (2.0) or "NDR64" (1.0)
  std::string name;                 // from a symbol (SwitchboardStore___RpcServerInterface -> SwitchboardStore), or empty
  uint32_t flags = 0;
  uint32_t dispatchTableRva = 0;    // RPC_DISPATCH_TABLE (servers)
  uint32_t interpreterInfoRva = 0;  // MIDL_SERVER_INFO (servers) / MIDL_STUBLESS_PROXY_INFO (clients)
  uint32_t stubDescRva = 0;         // MIDL_STUB_DESC
  uint32_t procFormatRva = 0;       // the procedure format string (the DCE/NDR one)
  uint32_t typeFormatRva = 0;       // the type format string (MIDL_STUB_DESC::pFormatTypes)
  uint32_t managerEpvRva = 0;       // DefaultManagerEpv (servers)
  StubStyle style = StubStyle::Unknown;
  std::vector<Procedure> procedures;       // by opnum
  std::vector<Registration> registrations;
  // The typedefs the procedures' IDL names ("typedef struct { long f0; } struct_18;").
  std::vector<std::string> typedefs;
  // A name for listings and names: name, else the uuid.
  std::string label() const { return name.empty() ? uuid : name; }
  std::string version() const { return std::to_string(versionMajor) + "." + std::to_string(versionMinor); }
};

// A client call site: an interpreted call (NdrClientCall2 ...) or an
// explicit stub's NdrClientInitializeNew.
struct ClientCall {
  uint32_t siteRva = 0;
  uint32_t functionRva = 0;   // the stub function that holds it
  std::string api;
  int interface = -1;         // index into RpcModel::interfaces; -1: unknown
  std::optional<unsigned> opnum;
};

// RpcServerUseProtseqEp* (server) and RpcStringBindingCompose* (client).
struct Endpoint {
  uint32_t siteRva = 0;
  std::string api;
  Role role = Role::Server;
  std::string protseq, endpoint, networkAddress;
  // "ncalrpc:[switchboard_store]", with the network address when there is one.
  std::string binding() const;
};

struct RpcModel {
  std::vector<Interface> interfaces;   // by rva
  std::vector<ClientCall> calls;       // by siteRva
  std::vector<Endpoint> endpoints;     // by siteRva
  std::vector<std::string> warnings;
  // The interface at rva, or null.
  const Interface *interfaceAt(uint32_t rva) const;
};

RpcModel findRpc(const Analysis &a);

// Client call -> server routine across images: the same interface UUID and
// version, the call's opnum in the server's dispatch table.
struct Link {
  size_t clientModule = 0;    // index into the models given
  uint32_t clientRva = 0;     // the call site
  unsigned opnum = 0;
  size_t serverModule = 0;
  uint32_t serverRva = 0;     // the server routine
  size_t clientInterface = 0, serverInterface = 0;   // indices into each model's interfaces
};
std::vector<Link> linkRpc(std::span<const RpcModel *const> models);

} // namespace sb::rpc
