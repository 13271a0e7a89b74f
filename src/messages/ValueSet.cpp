#include "ValueSet.h"

#include <algorithm>

namespace sb::messages {

ValueSet ValueSet::range(uint32_t lo, uint32_t hi) {
  ValueSet s;
  if (lo <= hi)
    s.r_.emplace_back(lo, hi);
  return s;
}

ValueSet ValueSet::wrapping(uint32_t start, uint64_t count) {
  if (count == 0)
    return none();
  if (count >= (uint64_t(1) << 32))
    return all();
  uint64_t last = uint64_t(start) + count - 1;
  if (last <= UINT32_MAX)
    return range(start, uint32_t(last));
  return range(start, UINT32_MAX) | range(0, uint32_t(last - (uint64_t(1) << 32)));
}

void ValueSet::add(uint32_t lo, uint32_t hi) {
  // Callers add in ascending order; merge with the last interval.
  if (!r_.empty() && uint64_t(r_.back().second) + 1 >= lo) {
    r_.back().second = std::max(r_.back().second, hi);
    return;
  }
  r_.emplace_back(lo, hi);
}

ValueSet ValueSet::operator&(const ValueSet &o) const {
  ValueSet out;
  size_t i = 0, j = 0;
  while (i < r_.size() && j < o.r_.size()) {
    uint32_t lo = std::max(r_[i].first, o.r_[j].first), hi = std::min(r_[i].second, o.r_[j].second);
    if (lo <= hi)
      out.add(lo, hi);
    (r_[i].second < o.r_[j].second) ? ++i : ++j;
  }
  return out;
}

ValueSet ValueSet::operator|(const ValueSet &o) const {
  std::vector<std::pair<uint32_t, uint32_t>> all = r_;
  all.insert(all.end(), o.r_.begin(), o.r_.end());
  return fromIntervals(std::move(all));
}

ValueSet ValueSet::complement() const {
  ValueSet out;
  uint64_t next = 0;
  for (const auto &[lo, hi] : r_) {
    if (lo > next)
      out.add(uint32_t(next), lo - 1);
    next = uint64_t(hi) + 1;
  }
  if (next <= UINT32_MAX)
    out.add(uint32_t(next), UINT32_MAX);
  return out;
}

ValueSet ValueSet::shifted(uint32_t delta) const {
  // Each interval moves; one that passes 2^32 - 1 splits in two. One sort
  // and merge for all (sets of thousands of single values are common).
  std::vector<std::pair<uint32_t, uint32_t>> moved;
  moved.reserve(r_.size() + 1);
  for (const auto &[lo, hi] : r_) {
    uint32_t a = lo + delta, b = hi + delta;
    if (a <= b) {
      moved.emplace_back(a, b);
    } else {
      moved.emplace_back(a, UINT32_MAX);
      moved.emplace_back(0, b);
    }
  }
  return fromIntervals(std::move(moved));
}

ValueSet ValueSet::fromIntervals(std::vector<std::pair<uint32_t, uint32_t>> intervals) {
  std::sort(intervals.begin(), intervals.end());
  ValueSet out;
  for (const auto &[lo, hi] : intervals)
    out.add(lo, hi);
  return out;
}

ValueSet ValueSet::filtered(const std::function<bool(uint32_t)> &keep) const {
  ValueSet out;
  for (const auto &[lo, hi] : r_)
    for (uint64_t v = lo; v <= hi; ++v)
      if (keep(uint32_t(v)))
        out.add(uint32_t(v), uint32_t(v));
  return out;
}

uint64_t ValueSet::size() const {
  uint64_t n = 0;
  for (const auto &[lo, hi] : r_)
    n += uint64_t(hi) - lo + 1;
  return n;
}

} // namespace sb::messages
