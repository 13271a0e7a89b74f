#include "switchboard/analysis/Analysis.h"
#include "switchboard/names/Naming.h"
#include "switchboard/rpc/Rpc.h"

#include <fmt/format.h>

namespace sb::names {

namespace {
// An identifier for the interface: its name, or rpc_<uuid with underscores>.
std::string interfaceIdentifier(const rpc::Interface &i) {
  return i.name.empty() ? "rpc_" + identifierPart(i.uuid) : i.name;
}
} // namespace

void addRpcNames(const Analysis &a, NameService &n) {
  const rpc::RpcModel &m = a.rpc();
  auto put = [&](uint32_t rva, std::string text) {
    if (rva)
      n.add(rva, {std::move(text), "", Source::Rpc});
  };
  for (const rpc::Interface &i : m.interfaces) {
    const std::string id = interfaceIdentifier(i);
    const bool server = i.role == rpc::Role::Server;
    put(i.rva, id + (server ? "::RpcServerInterface" : "::RpcClientInterface"));
    put(i.stubDescRva, id + "::StubDesc");
    put(i.dispatchTableRva, id + "::DispatchTable");
    put(i.interpreterInfoRva, id + (server ? "::ServerInfo" : "::ProxyInfo"));
    put(i.procFormatRva, id + "::ProcFormatString");
    put(i.typeFormatRva, id + "::TypeFormatString");
    for (const rpc::Procedure &p : i.procedures) {
      if (server) {
        put(p.rva, fmt::format("{}_Opnum{}", id, p.opnum));
        put(p.stubRva, fmt::format("{}_Opnum{}_stub", id, p.opnum));
      } else {
        put(p.rva, fmt::format("{}::Opnum{}", id, p.opnum));
      }
    }
    for (const rpc::Registration &r : i.registrations)
      put(r.securityCallbackRva, id + "::SecurityCallback");
  }
}

} // namespace sb::names
