#include "switchboard/graph/Graph.h"

#include <algorithm>
#include <array>
#include <tuple>

namespace sb::graph {

namespace {
constexpr std::array<const char *, kEdgeKindCount> kKindNames = {
    "call", "tail_call", "indirect_call", "vcall",  "message",   "registration",
    "subclass", "throw", "funclet",       "static_init", "atexit", "callback",
    "rpc_dispatch", "rpc_register", "rpc_call", "com_call", "com_factory",
    "port_message"};
} // namespace

const char *edgeKindName(EdgeKind k) { return kKindNames[size_t(k)]; }

std::optional<EdgeKind> parseEdgeKind(std::string_view name) {
  for (size_t i = 0; i < kKindNames.size(); ++i)
    if (name == kKindNames[i])
      return EdgeKind(i);
  return std::nullopt;
}

const char *exactnessName(Exactness e) {
  switch (e) {
  case Exactness::Exact: return "exact";
  case Exactness::ByType: return "by_type";
  case Exactness::ByMessage: return "by_message";
  case Exactness::Candidate: return "candidate";
  }
  return "?";
}

const char *evidenceName(Evidence e) {
  switch (e) {
  case Evidence::DirectCall: return "direct_call";
  case Evidence::ImportSlot: return "import_slot";
  case Evidence::ValueTracking: return "value_tracking";
  case Evidence::VftableSlot: return "vftable_slot";
  case Evidence::SendArgument: return "send_argument";
  case Evidence::ApiArgument: return "api_argument";
  case Evidence::EhTable: return "eh_table";
  case Evidence::InitTable: return "init_table";
  case Evidence::ProcedureField: return "procedure_field";
  case Evidence::RpcInterface: return "rpc_interface";
  case Evidence::ComInterface: return "com_interface";
  case Evidence::PortName: return "port_name";
  }
  return "?";
}

uint32_t Graph::addSet(std::vector<uint64_t> targets) {
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  sets_.push_back(std::move(targets));
  return uint32_t(sets_.size() - 1);
}

void Graph::add(Edge e) { edges_.push_back(std::move(e)); }

void Graph::addExact(EdgeKind kind, uint64_t from, uint64_t to, Evidence evidence, std::string label,
                     std::string detail) {
  if (!from || !to)
    return;
  Edge e;
  e.kind = kind;
  e.from = from;
  e.to = to;
  e.evidence = evidence;
  e.label = std::move(label);
  e.detail = std::move(detail);
  add(std::move(e));
}

void Graph::finish() {
  auto key = [](const Edge &e) { return std::tie(e.from, e.kind, e.to, e.toSet, e.toModule, e.toName, e.label); };
  std::sort(edges_.begin(), edges_.end(), [&](const Edge &x, const Edge &y) { return key(x) < key(y); });
  edges_.erase(std::unique(edges_.begin(), edges_.end(), [&](const Edge &x, const Edge &y) { return key(x) == key(y); }),
               edges_.end());
  // Edges into an address: direct ones by target; those with a shared set
  // through the set (a set of thousands of candidates is indexed once, not
  // once per site that uses it).
  byTarget_.clear();
  setMembers_.clear();
  edgesOfSet_.assign(sets_.size(), {});
  for (size_t i = 0; i < edges_.size(); ++i) {
    const Edge &e = edges_[i];
    if (e.toSet != Edge::kNoSet && e.toSet < sets_.size())
      edgesOfSet_[e.toSet].push_back(i);
    else if (e.toModule.empty())
      byTarget_.emplace_back(e.to, i);
  }
  std::sort(byTarget_.begin(), byTarget_.end());
  for (uint32_t s = 0; s < sets_.size(); ++s)
    if (!edgesOfSet_[s].empty())
      for (uint64_t t : sets_[s])
        setMembers_.emplace_back(t, s);
  std::sort(setMembers_.begin(), setMembers_.end());
}

std::span<const uint64_t> Graph::targets(const Edge &e) const {
  if (e.toSet != Edge::kNoSet && e.toSet < sets_.size())
    return sets_[e.toSet];
  if (!e.toModule.empty())
    return {};
  return {&e.to, 1};
}

size_t Graph::count(EdgeKind k) const {
  return size_t(std::count_if(edges_.begin(), edges_.end(), [&](const Edge &e) { return e.kind == k; }));
}

std::vector<size_t> Graph::outOf(uint64_t begin, uint64_t end) const {
  std::vector<size_t> out;
  auto it = std::lower_bound(edges_.begin(), edges_.end(), begin, [](const Edge &e, uint64_t v) { return e.from < v; });
  for (; it != edges_.end() && it->from < end; ++it)
    out.push_back(size_t(it - edges_.begin()));
  return out;
}

std::vector<size_t> Graph::into(uint64_t rva) const {
  std::vector<size_t> out;
  auto it = std::lower_bound(byTarget_.begin(), byTarget_.end(), std::make_pair(rva, size_t(0)));
  for (; it != byTarget_.end() && it->first == rva; ++it)
    out.push_back(it->second);
  auto m = std::lower_bound(setMembers_.begin(), setMembers_.end(), std::make_pair(rva, uint32_t(0)));
  bool viaSets = false;
  for (; m != setMembers_.end() && m->first == rva; ++m) {
    out.insert(out.end(), edgesOfSet_[m->second].begin(), edgesOfSet_[m->second].end());
    viaSets = true;
  }
  if (viaSets)
    std::sort(out.begin(), out.end());
  return out;
}

} // namespace sb::graph
