#include "switchboard/analysis/Analysis.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/graph/Recognizers.h"

#include <map>

namespace sb::graph {

void addVirtualCallEdges(const Analysis &a, Graph &g) {
  const cxx::ObjectModel &m = a.objectModel();
  // The model's candidate sets are shared by its sites; so are the graph's.
  std::map<uint32_t, uint32_t> graphSet;   // model set -> graph set
  for (const cxx::VirtualCall &v : m.vcalls) {
    std::span<const uint32_t> candidates = m.candidatesOf(v);
    if (candidates.empty())
      continue;
    Edge e;
    e.kind = EdgeKind::VirtualCall;
    e.from = v.siteRva;
    e.label = "slot " + std::to_string(v.slot);
    e.evidence = Evidence::VftableSlot;
    e.exactness = candidates.size() == 1 ? Exactness::Exact
                  : v.receiverClass >= 0  ? Exactness::ByType
                                          : Exactness::Candidate;
    if (v.receiverClass >= 0 && size_t(v.receiverClass) < m.classes.size())
      e.detail = m.classes[size_t(v.receiverClass)].name;
    if (candidates.size() == 1) {
      e.to = candidates[0];
    } else {
      auto [it, added] = graphSet.try_emplace(v.candidateSet, 0);
      if (added)
        it->second = g.addSet(std::vector<uint64_t>(candidates.begin(), candidates.end()));
      e.toSet = it->second;
    }
    g.add(std::move(e));
  }
}

void addExceptionEdges(const Analysis &a, Graph &g) {
  const eh::EhModel &m = a.ehModel();
  for (const eh::CatchEdge &c : m.edges)
    for (uint32_t site : c.throwSites) {
      Edge e;
      e.kind = EdgeKind::Throw;
      e.from = site;
      e.to = c.handlerRva;
      e.label = c.type;
      e.exactness = c.type == "..." ? Exactness::Candidate : Exactness::ByType;
      e.evidence = Evidence::EhTable;
      g.add(std::move(e));
    }
  // Parent -> funclet, named as the EH model names them. A catch funclet may
  // also be listed as a function of its own (FH4 FuncInfo4, or a funclet
  // whose .pdata shares its parent's FuncInfo): one edge, with the name.
  std::map<std::pair<uint32_t, uint32_t>, std::string> funclets;   // (parent, funclet) -> label
  for (const eh::FunctionEh &fe : m.functions) {
    uint32_t parent = fe.parentRva ? fe.parentRva : fe.rva;
    auto funclet = [&](uint32_t rva, const std::string &label) {
      if (!rva || !a.image().isExecutableRva(rva))
        return;
      auto [it, added] = funclets.try_emplace({parent, rva}, label);
      if (!added && it->second == "catch")
        it->second = label;
    };
    for (const eh::TryInfo &t : fe.tries)
      for (const eh::CatchInfo &c : t.catches)
        funclet(c.handlerRva, c.name.empty() ? "catch" : c.name);
    for (const eh::UnwindAction &u : fe.unwind)
      if (!u.name.empty())
        funclet(u.actionRva, u.name);
    if (fe.parentRva)
      funclet(fe.rva, "catch");
  }
  for (const auto &[key, label] : funclets) {
    Edge e;
    e.kind = EdgeKind::Funclet;
    e.from = key.first;
    e.to = key.second;
    e.label = label;
    e.evidence = Evidence::EhTable;
    g.add(std::move(e));
  }
}

void addInitializerEdges(const Analysis &a, Graph &g) {
  const cxx::ObjectModel &m = a.objectModel();
  for (const cxx::StaticInitializer &s : m.initializers) {
    std::string cls = s.classIndex >= 0 && size_t(s.classIndex) < m.classes.size()
                          ? m.classes[size_t(s.classIndex)].name
                          : std::string();
    auto add = [&](EdgeKind k, uint32_t from, uint32_t to, Evidence ev, std::string label) {
      if (!from || !to)
        return;
      Edge e;
      e.kind = k;
      e.from = from;
      e.to = to;
      e.label = std::move(label);
      e.evidence = ev;
      g.add(std::move(e));
    };
    add(EdgeKind::StaticInit, s.entryRva, s.functionRva, Evidence::InitTable, "initializer");
    add(EdgeKind::StaticInit, s.functionRva, s.constructorRva, Evidence::ValueTracking, cls);
    add(EdgeKind::AtExit, s.functionRva, s.destructorRva ? s.destructorRva : s.atexitRva, Evidence::ValueTracking,
        cls);
  }
}

} // namespace sb::graph
