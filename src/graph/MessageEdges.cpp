#include "switchboard/analysis/Analysis.h"
#include "switchboard/graph/Recognizers.h"
#include "switchboard/messages/MessageFlow.h"

#include <unordered_map>

namespace sb::graph {

namespace {
void registrations(const messages::MessageFlow &mf, Graph &g) {
  auto add = [&](EdgeKind k, uint32_t site, uint32_t proc, std::string label, std::string detail,
                 Evidence ev = Evidence::ApiArgument) {
    g.addExact(k, site, proc, ev, std::move(label), std::move(detail));
  };
  for (const messages::WindowClass &c : mf.classes)
    add(EdgeKind::Registration, c.siteRva, c.wndprocRva, c.name, "RegisterClass");
  for (const messages::Window &w : mf.windows) {
    // A helper that returns the window it creates is no creation site: its
    // CreateWindowEx call is.
    if (w.viaHelper)
      continue;
    if (w.procRva) {
      add(EdgeKind::Registration, w.siteRva, w.procRva, w.api, w.className);
      continue;
    }
    // CreateWindowEx: the procedures its class is registered with (several
    // when the class is registered on several paths).
    for (const messages::WindowClass &c : mf.classes)
      if (!w.className.empty() && c.name == w.className)
        add(EdgeKind::Registration, w.siteRva, c.wndprocRva, w.className, w.api);
  }
  for (const messages::Installation &i : mf.installations)
    add(i.kind == messages::ProcKind::Subclass ? EdgeKind::Subclass : EdgeKind::Registration, i.siteRva, i.procRva,
        i.api, i.field, i.field.empty() ? Evidence::ApiArgument : Evidence::ProcedureField);
}

} // namespace

void addMessageEdges(const Analysis &a, Graph &g) {
  const messages::MessageFlow &mf = a.messageFlow();
  registrations(mf, g);
  std::unordered_map<uint32_t, const messages::Procedure *> procs;
  for (const messages::Procedure &p : mf.procedures)
    procs.emplace(p.rva, &p);
  for (const messages::Send &s : mf.sends)
    for (uint32_t target : s.targets) {
      auto it = procs.find(target);
      const messages::Case *c = it != procs.end() && s.message ? messages::caseFor(*it->second, *s.message) : nullptr;
      Edge e;
      e.kind = EdgeKind::Message;
      e.from = s.siteRva;
      e.to = c ? messages::handlerFor(*c, s) : target;
      e.label = s.message ? messages::messageText(a.apiTable(), *s.message) : s.messageText;
      e.detail = s.api;
      // A framework map that leaves the message to its base (MFC) or to a
      // map it chains to (ATL): say which one handles it.
      if (c && c->chainedFrom) {
        auto base = procs.find(c->chainedFrom);
        const std::string cls = base != procs.end() ? base->second->cxxClass : std::string();
        e.detail += cls.empty() ? " (a base map handles it)" : " (handled by " + cls + "'s map)";
      }
      // A framework object's window: its class's map or a derived class's.
      const bool byClass = messages::isObjectTarget(s);
      e.exactness = !s.message ? Exactness::Candidate
                    : s.exact  ? Exactness::Exact
                    : byClass  ? Exactness::ByType
                               : Exactness::ByMessage;
      e.evidence = Evidence::SendArgument;
      g.add(std::move(e));
    }
}

} // namespace sb::graph
