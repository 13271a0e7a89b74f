#include "switchboard/analysis/Analysis.h"
#include "switchboard/calls/CallIndex.h"
#include "switchboard/calls/Callbacks.h"
#include "switchboard/graph/Recognizers.h"

#include <fmt/format.h>

namespace sb::graph {

void addCallEdges(const Analysis &a, Graph &g) {
  const pe::PeImage &img = a.image();
  for (const calls::IndexedSite &s : a.callIndex().sites()) {
    if (s.kind == calls::SiteKind::Indirect)
      continue;   // unresolved: no edge
    Edge e;
    e.kind = s.tail ? EdgeKind::TailCall : EdgeKind::Call;
    e.from = s.siteRva;
    if (s.iatRva) {
      const pe::Import *imp = img.importForIat(s.iatRva);
      e.toModule = imp ? imp->dll : "";
      e.toName = !imp ? "" : !imp->name.empty() ? imp->name : fmt::format("#{}", imp->ordinal);
      e.evidence = Evidence::ImportSlot;
      e.label = e.toName;
      if (e.toModule.empty())
        continue;
    } else {
      e.to = s.calleeRva;
      e.evidence = Evidence::DirectCall;
    }
    g.add(std::move(e));
  }
}

void addCallbackEdges(const Analysis &a, Graph &g) {
  for (const calls::CallbackRegistration &c : a.callbacks()) {
    Edge e;
    e.kind = EdgeKind::Callback;
    e.from = c.siteRva;
    e.to = c.targetRva;
    e.label = c.api;
    e.detail = c.param;
    e.evidence = Evidence::ApiArgument;
    g.add(std::move(e));
  }
}

} // namespace sb::graph
