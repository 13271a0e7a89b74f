#include "switchboard/analysis/Analysis.h"
#include "switchboard/graph/Recognizers.h"
#include "switchboard/rpc/Rpc.h"

#include <fmt/format.h>

namespace sb::graph {

void addRpcEdges(const Analysis &a, Graph &g) {
  const rpc::RpcModel &m = a.rpc();
  for (const rpc::Interface &i : m.interfaces) {
    for (const rpc::Procedure &p : i.procedures)
      if (i.role == rpc::Role::Server)
        g.addExact(EdgeKind::RpcDispatch, i.rva, p.rva, Evidence::RpcInterface, fmt::format("opnum {}", p.opnum),
                   i.label());
    for (const rpc::Registration &r : i.registrations)
      g.addExact(EdgeKind::RpcRegister, r.siteRva, i.rva, Evidence::ApiArgument, i.label(), r.api);
  }
  // A client call of an interface this image also serves.
  const rpc::RpcModel *self[] = {&m};
  for (const rpc::Link &l : rpc::linkRpc(self))
    g.addExact(EdgeKind::RpcCall, l.clientRva, l.serverRva, Evidence::RpcInterface,
               fmt::format("{}::Opnum{}", m.interfaces[l.serverInterface].label(), l.opnum), "same image");
}

Edge rpcLinkEdge(const rpc::RpcModel &server, const std::string &serverModule, const std::string &serverName,
                 const rpc::Link &l) {
  Edge e;
  e.kind = EdgeKind::RpcCall;
  e.from = l.clientRva;
  e.toModule = serverModule;
  e.toName = serverName;
  e.label = fmt::format("{}::Opnum{}", server.interfaces[l.serverInterface].label(), l.opnum);
  e.evidence = Evidence::RpcInterface;
  e.detail = fmt::format("{}+0x{:x}", serverModule, l.serverRva);
  return e;
}

} // namespace sb::graph
