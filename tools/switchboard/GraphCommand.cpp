// `switchboard graph FILE|DB [--kind K] [--from X] [--to Y] [--depth N]`:
// the hidden edges every recognizer found, as one graph: what a function
// reaches, or who reaches it, over every edge kind.
#include "Command.h"
#include "Common.h"

#include <iostream>

#include "switchboard/graph/Recognizers.h"
#include "switchboard/names/Names.h"
#include "switchboard/support/Quote.h"

#include <set>

namespace sb::cli {
namespace {
struct GraphOptions : CommonOptions {
  std::string kind, from, to;
  unsigned depth = 1;
  bool dot = false;
};

// The naming service's name, else "func+0x12".
std::string nameOf(const Analysis &a, uint64_t rva) {
  if (auto n = a.names().textAt(rva))
    return *n;
  return a.describe(uint32_t(rva));
}

std::optional<uint64_t> resolveNode(const Analysis &a, const std::string &text) {
  if (auto rva = a.names().find(text))
    return rva;
  if (auto rva = a.resolve(text))
    return *rva;
  return std::nullopt;
}

json edgeJson(const Analysis &a, const graph::Graph &g, const graph::Edge &e) {
  json j;
  j["kind"] = graph::edgeKindName(e.kind);
  j["from_rva"] = e.from;
  j["from"] = nameOf(a, e.from);
  if (!e.toModule.empty()) {
    j["to_module"] = e.toModule;
    j["to"] = e.toName;
  } else if (e.toSet != graph::Edge::kNoSet) {
    j["to_set"] = e.toSet;
    j["to_count"] = g.targets(e).size();
  } else {
    j["to_rva"] = e.to;
    j["to"] = nameOf(a, e.to);
  }
  j["label"] = e.label;
  j["exactness"] = graph::exactnessName(e.exactness);
  j["evidence"] = graph::evidenceName(e.evidence);
  if (!e.detail.empty())
    j["detail"] = e.detail;
  return j;
}

std::string targetText(const Analysis &a, const graph::Graph &g, const graph::Edge &e) {
  if (!e.toModule.empty())
    return fmt::format("{}!{}", e.toModule, e.toName);
  if (e.toSet != graph::Edge::kNoSet)
    return fmt::format("{} candidates (set {})", g.targets(e).size(), e.toSet);
  return fmt::format("{} ({})", nameOf(a, e.to), hex(e.to));
}

void printDot(const Analysis &a, const graph::Graph &g, const std::vector<size_t> &picked) {
  fmt::print("digraph {} {{\n  node [shape=box, fontname=\"monospace\"];\n", dotString(a.moduleName()));
  std::set<uint64_t> nodes;
  auto node = [&](uint64_t rva) {
    if (nodes.insert(rva).second)
      fmt::print("  n{:x} [label={}];\n", rva, dotString(nameOf(a, rva)));
    return fmt::format("n{:x}", rva);
  };
  for (size_t i : picked) {
    const graph::Edge &e = g.edges()[i];
    std::string from = node(e.from);
    std::string label = dotString(fmt::format("{} {}", graph::edgeKindName(e.kind), e.label));
    if (!e.toModule.empty()) {
      std::string id = dotString(e.toModule + "!" + e.toName);
      fmt::print("  {} -> {} [label={}];\n", from, id, label);
      continue;
    }
    for (uint64_t t : g.targets(e))
      fmt::print("  {} -> {} [label={}];\n", from, node(t), label);
  }
  fmt::print("}}\n");
}
} // namespace

Command graphCommand() {
  auto o = std::make_shared<GraphOptions>();
  return {"graph", "Hidden edges of every kind: what an address reaches, who reaches it", Needs::Code, {}, o,
          [o](CLI::App &cmd) {
            cmd.add_option("--kind", o->kind, "Only edges of this kind (call, tail_call, vcall, message, registration, "
                                              "subclass, throw, funclet, static_init, atexit, callback)");
            cmd.add_option("--from", o->from, "Edges leaving this function or address (name, RVA or VA)");
            cmd.add_option("--to", o->to, "Edges reaching this function or address");
            cmd.add_option("--depth", o->depth, "Levels to follow from --from / back from --to (default 1)");
            cmd.add_flag("--dot", o->dot, "Graphviz output");
          },
          [o](const Context &c) -> int {
    Analysis *a = c.analysis;
    graph::Query q;
    q.depth = o->depth;
    if (!o->kind.empty() && !(q.kind = graph::parseEdgeKind(o->kind))) {
      reportError("unknown edge kind '{}'", o->kind);
      return kExitUsage;
    }
    for (auto [text, slot] : {std::pair{&o->from, &q.from}, std::pair{&o->to, &q.to}})
      if (!text->empty() && !(*slot = resolveNode(*a, *text))) {
        reportError("no function or address '{}'", *text);
        return kExitUsage;
      }
    const graph::Graph &g = a->graph();
    c.phase("render");
    std::vector<size_t> picked = graph::select(*a, g, q);
    if (o->dot) {
      printDot(*a, g, picked);
      return kExitOk;
    }
    if (o->json) {
      // Streamed one element at a time (a large image has hundreds of
      // thousands of edges), in the layout printJson gives the whole.
      std::set<uint32_t> sets;
      for (size_t i : picked)
        if (g.edges()[i].toSet != graph::Edge::kNoSet)
          sets.insert(g.edges()[i].toSet);
      std::vector<uint32_t> setList(sets.begin(), sets.end());
      std::cout << "{\n \"edges\": ";
      printJsonArray(picked.size(), [&](size_t k) { return edgeJson(*a, g, g.edges()[picked[k]]); });
      std::cout << ",\n \"candidate_sets\": ";
      printJsonArray(setList.size(), [&](size_t k) {
        json targets = json::array();
        for (uint64_t t : g.sets()[setList[k]])
          targets.push_back({{"rva", t}, {"name", nameOf(*a, t)}});
        return json{{"id", setList[k]}, {"targets", targets}};
      });
      std::cout << "\n}\n";
      return kExitOk;
    }
    for (size_t i : picked) {
      const graph::Edge &e = g.edges()[i];
      fmt::print("{:<13} {} ({}) -> {}  {} [{}, {}]\n", graph::edgeKindName(e.kind), nameOf(*a, e.from), hex(e.from),
                 targetText(*a, g, e), e.label, graph::exactnessName(e.exactness), graph::evidenceName(e.evidence));
    }
    fmt::print("{} edge{}\n", picked.size(), picked.size() == 1 ? "" : "s");
    return kExitOk;
  }};
}

} // namespace sb::cli
