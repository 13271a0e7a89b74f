#include "switchboard/analysis/Analysis.h"
#include "switchboard/names/Naming.h"
#include "switchboard/ports/Ports.h"

#include <fmt/format.h>

namespace sb::names {

void addPortNames(const Analysis &a, NameService &n) {
  size_t ordinal = 0;
  for (const ports::ServerLoop &l : a.ports().loops) {
    // "\RPC Control\SwitchboardAlpc" -> PortServerLoop_SwitchboardAlpc.
    std::string port = l.portName.substr(l.portName.find_last_of('\\') + 1);
    n.add(l.functionRva, {port.empty() ? fmt::format("PortServerLoop_{}", ordinal) : "PortServerLoop_" + identifierPart(port),
                          "", Source::Port});
    ++ordinal;
  }
}

} // namespace sb::names
