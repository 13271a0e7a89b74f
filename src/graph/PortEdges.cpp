#include "switchboard/analysis/Analysis.h"
#include "switchboard/graph/Recognizers.h"
#include "switchboard/ports/Ports.h"

#include <fmt/format.h>

namespace sb::graph {

void addPortEdges(const Analysis &a, Graph &g) {
  const ports::PortModel &m = a.ports();
  const ports::PortModel *self[] = {&m};
  for (const ports::PortLink &l : ports::linkPorts(self))
    g.addExact(EdgeKind::PortMessage, l.clientRva, l.serverLoopRva, Evidence::PortName, l.portName, "same image");
}

} // namespace sb::graph

namespace sb::graph {

Edge portLinkEdge(const std::string &serverModule, const std::string &serverName, const ports::PortLink &l) {
  Edge e;
  e.kind = EdgeKind::PortMessage;
  e.from = l.clientRva;
  e.toModule = serverModule;
  e.toName = serverName;
  e.label = l.portName;
  e.evidence = Evidence::PortName;
  e.detail = fmt::format("{}+0x{:x}", serverModule, l.serverLoopRva);
  return e;
}

} // namespace sb::graph
