#include "switchboard/analysis/Analysis.h"
#include "switchboard/graph/Recognizers.h"

#include <algorithm>
#include <set>

namespace sb::graph {

namespace {
// The address ranges a node stands for: a function's chunks, or the address.
std::vector<code::Range> rangesOf(const Analysis &a, uint64_t node) {
  if (node <= UINT32_MAX)
    if (const code::Function *f = a.functionAt(uint32_t(node)))
      return f->chunks;
  uint32_t r = uint32_t(node);
  return {{r, r + 1}};
}

bool kindMatches(const Query &q, const Edge &e) { return !q.kind || e.kind == *q.kind; }

std::set<size_t> walkFrom(const Analysis &a, const Graph &g, const Query &q) {
  std::set<size_t> picked;
  std::set<uint64_t> seen{*q.from}, frontier{*q.from};
  for (unsigned level = 0; level < std::max(1u, q.depth) && !frontier.empty(); ++level) {
    std::set<uint64_t> next;
    for (uint64_t node : frontier)
      for (const code::Range &r : rangesOf(a, node))
        for (size_t i : g.outOf(r.rva, r.end)) {
          const Edge &e = g.edges()[i];
          if (!kindMatches(q, e) || !picked.insert(i).second)
            continue;
          for (uint64_t t : g.targets(e))
            if (seen.insert(t).second)
              next.insert(t);
        }
    frontier = std::move(next);
  }
  return picked;
}

std::set<size_t> walkTo(const Analysis &a, const Graph &g, const Query &q) {
  std::set<size_t> picked;
  std::set<uint64_t> seen{*q.to}, frontier{*q.to};
  for (unsigned level = 0; level < std::max(1u, q.depth) && !frontier.empty(); ++level) {
    std::set<uint64_t> next;
    for (uint64_t node : frontier)
      for (const code::Range &r : rangesOf(a, node))
        for (uint64_t t = r.rva; t < r.end; ++t)
          for (size_t i : g.into(t)) {
            const Edge &e = g.edges()[i];
            if (!kindMatches(q, e) || !picked.insert(i).second)
              continue;
            const code::Function *f = e.from <= UINT32_MAX ? a.functionContaining(uint32_t(e.from)) : nullptr;
            uint64_t caller = f ? f->rva : e.from;
            if (seen.insert(caller).second)
              next.insert(caller);
          }
    frontier = std::move(next);
  }
  return picked;
}

bool endsIn(const Analysis &a, const Graph &g, const Edge &e, uint64_t node) {
  for (const code::Range &r : rangesOf(a, node))
    for (uint64_t t : g.targets(e))
      if (t >= r.rva && t < r.end)
        return true;
  return false;
}
} // namespace

std::vector<size_t> select(const Analysis &a, const Graph &g, const Query &q) {
  std::vector<size_t> out;
  if (q.from) {
    for (size_t i : walkFrom(a, g, q))
      if (!q.to || endsIn(a, g, g.edges()[i], *q.to))
        out.push_back(i);
  } else if (q.to) {
    std::set<size_t> s = walkTo(a, g, q);
    out.assign(s.begin(), s.end());
  } else {
    for (size_t i = 0; i < g.edges().size(); ++i)
      if (kindMatches(q, g.edges()[i]))
        out.push_back(i);
  }
  return out;
}

} // namespace sb::graph
