// The report's data: the summary, then one section per model.
#include "Sections.h"

#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/names/Names.h"

#include <fmt/format.h>

namespace sb::report {

json namesSection(const Analysis &a) {
  json out = json::array();
  for (const auto &[rva, n] : a.names().all())
    out.push_back({rva, n.text, n.label ? 1 : 0, names::sourceName(n.source)});
  return out;
}

json functionsSection(const Analysis &a) {
  json out = json::array();
  for (const code::Function &f : a.functions()) {
    const names::Name *n = a.names().at(f.rva);
    out.push_back({f.rva, f.end(), n && !n->label ? n->text : f.name});
  }
  return out;
}

namespace {
json edgeTarget(const graph::Edge &e, std::vector<uint32_t> &usedSets) {
  if (!e.toModule.empty())
    return e.toModule + "!" + e.toName;
  if (e.toSet != graph::Edge::kNoSet) {
    usedSets.push_back(e.toSet);
    return json::array({e.toSet});
  }
  return e.to;
}

// The candidate sets the edges use: {id: [targets]}; a set of thousands of
// candidates keeps its first ones and its size.
json setsOf(const graph::Graph &g, std::vector<uint32_t> used) {
  constexpr size_t kListed = 64;
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  json out = json::object();
  for (uint32_t id : used) {
    const auto &all = g.sets()[id];
    json targets = json::array();
    for (size_t i = 0; i < all.size() && i < kListed; ++i)
      targets.push_back(all[i]);
    out[std::to_string(id)] = {{"count", all.size()}, {"targets", targets}};
  }
  return out;
}
} // namespace

json edgesSection(const Analysis &a) {
  const graph::Graph &g = a.graph();
  json kinds = json::array(), exactness = json::array(), evidence = json::array();
  for (size_t k = 0; k < graph::kEdgeKindCount; ++k)
    kinds.push_back(graph::edgeKindName(graph::EdgeKind(k)));
  for (auto x : {graph::Exactness::Exact, graph::Exactness::ByType, graph::Exactness::ByMessage,
                 graph::Exactness::Candidate})
    exactness.push_back(graph::exactnessName(x));
  for (int v = 0; v <= int(graph::Evidence::PortName); ++v)
    evidence.push_back(graph::evidenceName(graph::Evidence(v)));
  json list = json::array();
  std::vector<uint32_t> usedSets;
  for (const graph::Edge &e : g.edges()) {
    const code::Function *f = a.functionContaining(uint32_t(e.from));
    list.push_back({int(e.kind), e.from, f ? json(f->rva) : json(-1), edgeTarget(e, usedSets), e.label,
                    int(e.exactness), int(e.evidence), e.detail});
  }
  return {{"kinds", kinds}, {"exactness", exactness}, {"evidence", evidence}, {"list", list},
          {"sets", setsOf(g, std::move(usedSets))}};
}

namespace {
json summaryOf(const Analysis &a, const std::string &moduleFile, const ReportCounts &counts) {
  const pe::PeImage &img = a.image();
  json edges = json::object();
  for (size_t k = 0; k < graph::kEdgeKindCount; ++k)
    edges[graph::edgeKindName(graph::EdgeKind(k))] = a.graph().count(graph::EdgeKind(k));
  return {{"file", moduleFile},
          {"module", a.moduleName()},
          {"arch", pe::machineName(img.machine())},
          {"type", img.headers().isDll() ? "DLL" : "EXE"},
          {"image_base", fmt::format("{:#x}", img.imageBase())},
          {"functions", a.functions().size()},
          {"names", a.names().size()},
          {"edges", a.graph().edges().size()},
          {"edges_by_kind", edges},
          {"window_classes", a.messageFlow().classes.size()},
          {"procedures", counts.procedures},
          {"handled_messages", counts.cases},
          {"sends", a.messageFlow().sends.size()},
          {"classes", a.objectModel().classes.size()},
          {"vftables", a.objectModel().vftables.size()},
          {"listings", counts.listings},
          {"listed_instructions", counts.instructions}};
}
} // namespace

std::string reportData(const Analysis &a, const std::string &moduleFile, const ReportOptions &options,
                       ReportCounts *counts) {
  ReportCounts local;
  ReportCounts &c = counts ? *counts : local;
  c = {};
  json data;
  json messages = messagesSection(a, c);
  json listings = listingsSection(a, options, c);
  json classes = classesSection(a);
  c.classes = a.objectModel().classes.size();
  c.edges = a.graph().edges().size();
  c.sends = a.messageFlow().sends.size();
  data["summary"] = summaryOf(a, moduleFile, c);
  data["names"] = namesSection(a);
  data["functions"] = functionsSection(a);
  data["edges"] = edgesSection(a);
  data["messages"] = std::move(messages);
  data["classes"] = std::move(classes);
  data["listings"] = std::move(listings);
  // Bytes that are no valid UTF-8 (a name from a damaged symbol) become
  // U+FFFD rather than an exception.
  return data.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace sb::report
