#include "switchboard/analysis/Analysis.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/graph/Recognizers.h"

#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

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

void addIndirectCallEdges(const Analysis &a, Graph &g) {
  for (const cxx::ResolvedCall &r : a.objectModel().resolvedCalls)
    g.addExact(EdgeKind::IndirectCall, r.siteRva, r.targetRva, Evidence::ValueTracking, "");
}

void addExceptionEdges(const Analysis &a, Graph &g) {
  const eh::EhModel &m = a.ehModel();
  // One edge per throw site to the catches that can take it. Sites of one
  // thrown type share their set (every catch (...) of an image is in each):
  // sets, not an edge per (site, catch) pair, which on a large C++ image is
  // millions of edges.
  std::vector<std::pair<uint32_t, uint64_t>> reach;   // (throw site, catch handler)
  std::unordered_set<uint32_t> typed;                  // sites some catch takes by type (not only catch (...))
  for (const eh::CatchEdge &c : m.edges)
    for (uint32_t site : c.throwSites) {
      reach.emplace_back(site, c.handlerRva);
      if (c.type != "...")
        typed.insert(site);
    }
  std::sort(reach.begin(), reach.end());
  reach.erase(std::unique(reach.begin(), reach.end()), reach.end());
  std::unordered_map<uint32_t, const eh::ThrowSite *> throws;
  for (const eh::ThrowSite &t : m.throws)
    throws.emplace(t.siteRva, &t);
  std::map<std::vector<uint64_t>, uint32_t> sets;
  std::vector<uint64_t> handlers;
  for (size_t i = 0; i < reach.size();) {
    const uint32_t site = reach[i].first;
    handlers.clear();
    for (; i < reach.size() && reach[i].first == site; ++i)
      handlers.push_back(reach[i].second);
    Edge e;
    e.kind = EdgeKind::Throw;
    e.from = site;
    auto t = throws.find(site);
    e.label = t == throws.end() ? "" : t->second->rethrow ? "rethrow" : t->second->type;
    e.exactness = typed.count(site) ? Exactness::ByType : Exactness::Candidate;
    e.evidence = Evidence::EhTable;
    if (handlers.size() == 1) {
      e.to = handlers[0];
    } else {
      auto [it, added] = sets.try_emplace(handlers, 0);
      if (added)
        it->second = g.addSet(handlers);
      e.toSet = it->second;
    }
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
      g.addExact(k, from, to, ev, std::move(label));
    };
    add(EdgeKind::StaticInit, s.entryRva, s.functionRva, Evidence::InitTable, "initializer");
    add(EdgeKind::StaticInit, s.functionRva, s.constructorRva, Evidence::ValueTracking, cls);
    add(EdgeKind::AtExit, s.functionRva, s.destructorRva ? s.destructorRva : s.atexitRva, Evidence::ValueTracking,
        cls);
  }
}

} // namespace sb::graph
