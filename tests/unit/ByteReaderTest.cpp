#include "switchboard/support/ByteReader.h"

#include <gtest/gtest.h>

namespace sb {
namespace {
TEST(ByteReader, ReadsInsideAndRefusesOutside) {
  std::vector<uint8_t> b{1, 2, 3, 4, 5, 'h', 'i', 0};
  ByteReader r(b);
  EXPECT_EQ(r.u32(0), 0x04030201u);
  EXPECT_EQ(r.u16(6), uint16_t(0x0069));
  EXPECT_FALSE(r.u32(5));
  EXPECT_FALSE(r.u64(1));
  EXPECT_FALSE(r.u8(8));
  EXPECT_FALSE(r.u32(~0ull));
  EXPECT_FALSE(r.bytes(4, ~0ull));
  EXPECT_EQ(r.cstring(5), "hi");
  EXPECT_FALSE(r.cstring(8));
  EXPECT_FALSE(r.cstring(0, 3));   // no NUL within the limit
}
} // namespace
} // namespace sb
