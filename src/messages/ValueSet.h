// Internal: a set of 32-bit values as sorted, disjoint, inclusive
// intervals: the messages that can reach a block of a dispatch.
#pragma once
#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

namespace sb::messages {

class ValueSet {
public:
  static ValueSet all() { return range(0, UINT32_MAX); }
  static ValueSet none() { return {}; }
  static ValueSet one(uint32_t v) { return range(v, v); }
  static ValueSet range(uint32_t lo, uint32_t hi);   // inclusive, lo <= hi
  // count values from start on, wrapping past 2^32 - 1.
  static ValueSet wrapping(uint32_t start, uint64_t count);
  // Any inclusive intervals, in any order, overlapping or not.
  static ValueSet fromIntervals(std::vector<std::pair<uint32_t, uint32_t>> intervals);

  ValueSet operator&(const ValueSet &o) const;
  ValueSet operator|(const ValueSet &o) const;
  ValueSet complement() const;
  ValueSet shifted(uint32_t delta) const;   // every value + delta (mod 2^32)
  ValueSet filtered(const std::function<bool(uint32_t)> &keep) const;   // only for small sets

  uint64_t size() const;
  bool empty() const { return r_.empty(); }
  bool operator==(const ValueSet &o) const = default;
  const std::vector<std::pair<uint32_t, uint32_t>> &intervals() const { return r_; }

private:
  void add(uint32_t lo, uint32_t hi);   // keeps r_ sorted and merged
  std::vector<std::pair<uint32_t, uint32_t>> r_;
};

} // namespace sb::messages
