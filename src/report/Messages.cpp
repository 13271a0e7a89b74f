// The message graph's data: the message flow's classes, procedures and
// cases, with the senders of each case as the graph's message edges into it
// (a case is matched by its handler and the edge's message text, since
// several messages may share one handler; a handler two procedures share
// gets its edges in both).
#include "Sections.h"

#include "switchboard/graph/Graph.h"
#include "switchboard/messages/MessageFlow.h"

#include <map>
#include <set>

namespace sb::report {

namespace {
// The message edges by (target, label); registration and subclass edges by
// target.
struct EdgeIndex {
  std::map<std::pair<uint64_t, std::string>, std::vector<size_t>> messages;
  std::map<uint64_t, std::vector<size_t>> installs;
};

EdgeIndex indexEdges(const graph::Graph &g) {
  EdgeIndex out;
  std::span<const graph::Edge> edges = g.edges();
  for (size_t i = 0; i < edges.size(); ++i) {
    const graph::Edge &e = edges[i];
    if (!e.toModule.empty() || e.toSet != graph::Edge::kNoSet)
      continue;
    if (e.kind == graph::EdgeKind::Message)
      out.messages[{e.to, e.label}].push_back(i);
    else if (e.kind == graph::EdgeKind::Registration || e.kind == graph::EdgeKind::Subclass)
      out.installs[e.to].push_back(i);
  }
  return out;
}

template <typename Map, typename Key> const std::vector<size_t> &at(const Map &map, const Key &key) {
  static const std::vector<size_t> none;
  auto it = map.find(key);
  return it == map.end() ? none : it->second;
}

json procedureJson(const Analysis &a, const messages::Procedure &p, const EdgeIndex &index, ReportCounts &counts) {
  json cases = json::array();
  std::set<std::pair<uint64_t, std::string>> matched;
  for (const messages::Case &c : p.cases) {
    std::string label = messages::messageText(a.apiTable(), c.message);
    // Where the case's message edges land: its handler, the member function
    // an ATL case runs, the handler of a WM_COMMAND id.
    std::set<uint64_t> targets{c.handlerRva};
    if (c.handlerFunction)
      targets.insert(c.handlerFunction);
    for (const auto &[id, handler] : c.commands)
      targets.insert(handler);
    std::vector<size_t> senders;
    for (uint64_t t : targets) {
      const std::vector<size_t> &e = at(index.messages, std::pair{t, label});
      senders.insert(senders.end(), e.begin(), e.end());
      matched.emplace(t, label);
    }
    std::sort(senders.begin(), senders.end());
    senders.erase(std::unique(senders.begin(), senders.end()), senders.end());
    cases.push_back({c.text, c.handlerFunction ? c.handlerFunction : c.handlerRva, senders});
    counts.cases++;
  }
  // What reaches the procedure itself but no case of it: its default path.
  std::vector<size_t> unhandled;
  for (auto it = index.messages.lower_bound({p.rva, std::string()});
       it != index.messages.end() && it->first.first == p.rva; ++it)
    if (!matched.count(it->first))
      unhandled.insert(unhandled.end(), it->second.begin(), it->second.end());
  std::sort(unhandled.begin(), unhandled.end());
  const std::vector<size_t> &installs = at(index.installs, uint64_t(p.rva));
  return {{"rva", p.rva},
          {"kind", messages::procKindName(p.kind)},
          {"classes", p.classes},
          {"cases", cases},
          {"unhandled", unhandled},
          {"installed_by", installs},
          {"forwarded_to", p.forwardedTo},
          {"defaults", p.defaults},
          {"wrapper_classes", p.wrapperClasses},
          {"cxx_class", p.cxxClass}};
}
} // namespace

json messagesSection(const Analysis &a, ReportCounts &counts) {
  const messages::MessageFlow &mf = a.messageFlow();
  EdgeIndex index = indexEdges(a.graph());
  json classes = json::array(), procedures = json::array();
  for (const messages::WindowClass &c : mf.classes)
    classes.push_back({c.name, c.wndprocRva, c.siteRva});
  for (const messages::Procedure &p : mf.procedures) {
    procedures.push_back(procedureJson(a, p, index, counts));
    counts.procedures++;
  }
  return {{"classes", classes}, {"procedures", procedures}};
}

} // namespace sb::report
