#include "switchboard/analysis/Analysis.h"
#include "switchboard/com/Com.h"
#include "switchboard/graph/Recognizers.h"

#include <fmt/format.h>

namespace sb::graph {

void addComEdges(const Analysis &a, Graph &g) {
  const com::ComModel &m = a.com();
  for (const com::MethodCall &c : m.calls) {
    const com::Activation &x = m.activations[c.activation];
    Edge e;
    e.kind = EdgeKind::ComCall;
    e.from = c.siteRva;
    // The class that implements it: its CLSID's name, the CLSID, or (an
    // interface from QueryInterface of an unknown class) just "com".
    e.toModule = !x.clsidName.empty() ? x.clsidName : !x.clsid.empty() ? "{" + x.clsid + "}" : "com";
    e.toName = c.qualified;
    e.label = c.qualified;
    e.exactness = Exactness::ByType;
    e.evidence = Evidence::ComInterface;
    e.detail = fmt::format("{} at 0x{:x}, slot {}", x.api, x.siteRva, c.slot);
    g.add(std::move(e));
  }
  for (const com::ServerClass &s : m.serverClasses)
    g.addExact(EdgeKind::ComFactory, m.dllGetClassObjectRva, s.createInstanceRva, Evidence::VftableSlot,
               s.clsids.empty() ? "CreateInstance" : "{" + s.clsids.front() + "}", "IClassFactory::CreateInstance");
}

} // namespace sb::graph
