#include "Dispatch.h"

#include <bit>
#include <deque>
#include <map>
#include <optional>

namespace sb::messages {

namespace {
constexpr uint64_t kEnumerable = 1 << 16;   // sets small enough to test value by value

// `c OP x` as `x OP' c`.
Cond mirrored(Cond c) {
  switch (c) {
  case Cond::Below: return Cond::Above;
  case Cond::AboveEq: return Cond::BelowEq;
  case Cond::BelowEq: return Cond::AboveEq;
  case Cond::Above: return Cond::Below;
  case Cond::Less: return Cond::Greater;
  case Cond::GreaterEq: return Cond::LessEq;
  case Cond::LessEq: return Cond::GreaterEq;
  case Cond::Greater: return Cond::Less;
  default: return c;
  }
}

// The values x (32-bit) for which `x cond k` holds; nullopt when the
// condition does not follow from the compare.
std::optional<ValueSet> compareSet(Cond cond, uint32_t k) {
  const uint32_t sk = k ^ 0x80000000u;   // signed order as unsigned order of x ^ 2^31
  switch (cond) {
  case Cond::Eq: return ValueSet::one(k);
  case Cond::Ne: return ValueSet::one(k).complement();
  case Cond::Below: return ValueSet::wrapping(0, k);
  case Cond::AboveEq: return ValueSet::wrapping(0, k).complement();
  case Cond::BelowEq: return ValueSet::range(0, k);
  case Cond::Above: return ValueSet::range(0, k).complement();
  case Cond::Less: return ValueSet::wrapping(0x80000000u, sk);
  case Cond::GreaterEq: return ValueSet::wrapping(0x80000000u, sk).complement();
  case Cond::LessEq: return ValueSet::wrapping(0x80000000u, uint64_t(sk) + 1);
  case Cond::Greater: return ValueSet::wrapping(0x80000000u, uint64_t(sk) + 1).complement();
  case Cond::Sign: return k == 0 ? std::optional(ValueSet::range(0x80000000u, UINT32_MAX)) : std::nullopt;
  case Cond::NotSign: return k == 0 ? std::optional(ValueSet::range(0, 0x7FFFFFFFu)) : std::nullopt;
  default: return std::nullopt;
  }
}

// The messages of `in` for which the branch is taken; nullopt: unknown
// (both edges keep every message).
std::optional<ValueSet> takenSet(const MsgTest &t, const ValueSet &in) {
  const uint32_t bias = uint32_t(t.bias);
  switch (t.shape) {
  case MsgTest::Shape::Compare: {
    if (t.zfOnly && t.cond != Cond::Eq && t.cond != Cond::Ne)
      return std::nullopt;
    auto xs = compareSet(t.constantFirst ? mirrored(t.cond) : t.cond, t.constant);
    if (!xs)
      return std::nullopt;
    return in & xs->shifted(0 - bias);
  }
  case MsgTest::Shape::Bit: {
    if (in.size() > kEnumerable || (t.cond != Cond::BitSet && t.cond != Cond::BitClear))
      return std::nullopt;
    bool wantSet = t.cond == Cond::BitSet;
    return in.filtered([&](uint32_t m) { return ((t.mask >> ((m + bias) % t.width)) & 1) == wantSet; });
  }
  case MsgTest::Shape::Masked: {
    if (t.cond != Cond::Eq && t.cond != Cond::Ne)
      return std::nullopt;
    const uint32_t mask = uint32_t(t.mask);
    ValueSet eq;
    if (in.size() <= kEnumerable) {
      eq = in.filtered([&](uint32_t m) { return ((m + bias) & mask) == t.constant; });
    } else {
      // Every x with the masked bits equal to the constant: the free bits'
      // combinations.
      const uint32_t free = ~mask;
      if (std::popcount(free) > 16 || (t.constant & ~mask))
        return std::nullopt;
      std::vector<std::pair<uint32_t, uint32_t>> xs;
      uint32_t sub = 0;
      do {
        xs.emplace_back(t.constant | sub, t.constant | sub);
        sub = (sub - free) & free;
      } while (sub);
      eq = in & ValueSet::fromIntervals(std::move(xs)).shifted(0 - bias);
    }
    return t.cond == Cond::Eq ? eq : in & eq.complement();
  }
  }
  return std::nullopt;
}
} // namespace

std::vector<HandlerCase> solveDispatch(const code::Function &f, const std::vector<MsgTest> &tests,
                                       const std::vector<TableCase> &table, uint64_t maxValues) {
  const size_t n = f.blocks.size();
  std::map<uint32_t, size_t> index;
  for (size_t i = 0; i < n; ++i)
    index.emplace(f.blocks[i].rva, i);
  auto blockOf = [&](uint32_t rva) -> std::optional<size_t> {
    auto it = index.upper_bound(rva);
    if (it == index.begin())
      return std::nullopt;
    --it;
    return rva < f.blocks[it->second].end ? std::optional(it->second) : std::nullopt;
  };
  std::vector<const MsgTest *> testOf(n, nullptr);
  for (const MsgTest &t : tests)
    if (auto b = blockOf(t.site))
      testOf[*b] = &t;
  // A jump table's block: the messages each target gets, and those no entry
  // lists (the bounds check's default), as sets once.
  struct TableSets {
    std::map<uint32_t, ValueSet> byTarget;
    ValueSet unlisted = ValueSet::all();
  };
  std::map<size_t, TableSets> tableOf;
  {
    std::map<size_t, std::map<uint32_t, std::vector<std::pair<uint32_t, uint32_t>>>> entries;
    for (const TableCase &c : table)
      if (auto b = blockOf(c.jumpSite))
        entries[*b][c.target].emplace_back(c.message, c.message);
    for (auto &[b, byTarget] : entries) {
      TableSets &t = tableOf[b];
      ValueSet listed;
      for (auto &[target, values] : byTarget) {
        t.byTarget[target] = ValueSet::fromIntervals(std::move(values));
        listed = listed | t.byTarget[target];
      }
      t.unlisted = listed.complement();
    }
  }
  auto dispatches = [&](size_t b) { return testOf[b] || tableOf.count(b); };

  // What a block sends along each of its successors.
  auto outputs = [&](size_t b, const ValueSet &in) {
    std::vector<std::pair<uint32_t, ValueSet>> out;
    const code::BasicBlock &blk = f.blocks[b];
    if (const MsgTest *t = testOf[b]) {
      auto taken = takenSet(*t, in);
      for (uint32_t s : blk.successors) {
        if (!taken)
          out.emplace_back(s, in);
        else if (s == t->taken && s == t->fallthrough)
          out.emplace_back(s, in);
        else if (s == t->taken)
          out.emplace_back(s, *taken);
        else if (s == t->fallthrough)
          out.emplace_back(s, in & taken->complement());
        else
          out.emplace_back(s, in);
      }
    } else if (auto t = tableOf.find(b); t != tableOf.end()) {
      for (uint32_t s : blk.successors) {
        auto it = t->second.byTarget.find(s);
        out.emplace_back(s, in & (it != t->second.byTarget.end() ? it->second : t->second.unlisted));
      }
    } else {
      for (uint32_t s : blk.successors)
        out.emplace_back(s, in);
    }
    return out;
  };

  std::vector<ValueSet> state(n);
  auto entry = index.find(f.rva);
  if (entry == index.end())
    return {};
  state[entry->second] = ValueSet::all();
  std::deque<size_t> work{entry->second};
  std::vector<bool> queued(n, false);
  queued[entry->second] = true;
  size_t steps = 0;
  while (!work.empty() && steps++ < 64 * n + 64) {
    size_t b = work.front();
    work.pop_front();
    queued[b] = false;
    for (auto &[succ, set] : outputs(b, state[b])) {
      auto it = index.find(succ);
      if (it == index.end())
        continue;
      ValueSet merged = state[it->second] | set;
      if (merged == state[it->second])
        continue;
      state[it->second] = std::move(merged);
      if (!queued[it->second]) {
        queued[it->second] = true;
        work.push_back(it->second);
      }
    }
  }

  // The blocks the dispatch leaves for, with what each receives.
  std::map<size_t, ValueSet> entered;
  for (size_t b = 0; b < n; ++b) {
    if (!dispatches(b))
      continue;
    for (auto &[succ, set] : outputs(b, state[b])) {
      auto it = index.find(succ);
      if (it != index.end() && !dispatches(it->second) && !set.empty())
        entered[it->second] = entered[it->second] | set;
    }
  }
  // One that leads back into the dispatch (a trace call, a table lookup,
  // the setup of the next compare) is a step of it, not a handler; unless
  // it was entered for one message alone (`if (msg == WM_NCCREATE)
  // SetWindowLongPtr(...)` before the switch: work for that message).
  auto rejoins = [&](size_t from) {
    std::deque<size_t> q{from};
    std::vector<bool> seen(n, false);
    seen[from] = true;
    for (size_t visited = 0; !q.empty() && visited < 512; ++visited) {
      size_t b = q.front();
      q.pop_front();
      for (uint32_t s : f.blocks[b].successors) {
        auto it = index.find(s);
        if (it == index.end() || seen[it->second])
          continue;
        if (dispatches(it->second))
          return true;
        seen[it->second] = true;
        q.push_back(it->second);
      }
    }
    return false;
  };
  std::vector<HandlerCase> out;
  for (const auto &[b, set] : entered)
    if (set.size() <= maxValues && (set.size() == 1 || !rejoins(b)))
      out.push_back({f.blocks[b].rva, set});
  return out;
}

} // namespace sb::messages
