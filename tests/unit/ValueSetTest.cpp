// The message sets of the dispatch solver: interval arithmetic at the edges
// of the 32-bit range, and sets of many single values in time.
#include "messages/ValueSet.h"

#include <gtest/gtest.h>

#include <chrono>

namespace sb::messages {
namespace {

TEST(ValueSet, IntervalsWrapAndComplement) {
  EXPECT_EQ(ValueSet::all().size(), uint64_t(1) << 32);
  EXPECT_TRUE(ValueSet::all().complement().empty());
  ValueSet w = ValueSet::wrapping(0xFFFFFFFEu, 4);   // fffffffe, ffffffff, 0, 1
  EXPECT_EQ(w.size(), 4u);
  EXPECT_EQ(w.intervals().front(), std::make_pair(0u, 1u));
  EXPECT_EQ(w.intervals().back(), std::make_pair(0xFFFFFFFEu, 0xFFFFFFFFu));
  EXPECT_EQ(ValueSet::range(0x100, 0x10F).shifted(0xFFFFFF00u), ValueSet::range(0, 0xF));   // msg - 0x100
  EXPECT_EQ((ValueSet::range(0, 10) & ValueSet::range(5, 20)), ValueSet::range(5, 10));
  EXPECT_EQ((ValueSet::range(0, 4) | ValueSet::range(5, 9)), ValueSet::range(0, 9));   // adjacent merge
  ValueSet c = ValueSet::one(0).complement();
  EXPECT_EQ(c, ValueSet::range(1, 0xFFFFFFFFu));
  EXPECT_EQ(ValueSet::fromIntervals({{9, 9}, {1, 3}, {2, 5}}), ValueSet::range(1, 5) | ValueSet::one(9));
}

TEST(ValueSet, ManySingleValuesStayFast) {
  // 65,536 single values (a bit-test or masked compare over a wide range):
  // shifting, joining and filtering must not be quadratic.
  std::vector<std::pair<uint32_t, uint32_t>> odd;
  for (uint32_t v = 1; v < 2 * 65536; v += 2)
    odd.emplace_back(v, v);
  auto start = std::chrono::steady_clock::now();
  ValueSet s = ValueSet::fromIntervals(odd);
  ValueSet t = s.shifted(0x80000000u) | s;
  ValueSet f = ValueSet::range(0, 0x1FFFF).filtered([](uint32_t v) { return v % 2 == 1; });
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(s.size(), 65536u);
  EXPECT_EQ(t.size(), 2 * 65536u);
  EXPECT_EQ(f, s);
  EXPECT_LT(seconds, 2.0);
}

} // namespace
} // namespace sb::messages
