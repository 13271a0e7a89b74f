// The public register numbering (code::Gpr) and its names.
#include "switchboard/code/Registers.h"
#include "switchboard/unwind/UnwindInfo.h"
#include "switchboard/values/Value.h"

#include <gtest/gtest.h>

#include <string>

namespace sb::test {
namespace {

using code::Gpr;

TEST(Registers, NamesByArchitecture) {
  EXPECT_STREQ(code::gprName(Gpr::Rax, true), "rax");
  EXPECT_STREQ(code::gprName(Gpr::Rcx, true), "rcx");
  EXPECT_STREQ(code::gprName(Gpr::Rcx, false), "ecx");
  EXPECT_STREQ(code::gprName(Gpr::Rdi, false), "edi");
  EXPECT_STREQ(code::gprName(Gpr::R8, true), "r8");
  EXPECT_STREQ(code::gprName(Gpr::R15, true), "r15");
  EXPECT_STREQ(code::gprName(Gpr::R8, false), "r8");   // x86 code never names it
}

TEST(Registers, NumberingIsTheEncodingOrder) {
  EXPECT_EQ(code::gprIndex(Gpr::Rax), 0u);
  EXPECT_EQ(code::gprIndex(Gpr::Rsp), 4u);
  EXPECT_EQ(code::gprIndex(Gpr::R8), 8u);
  EXPECT_EQ(code::gprIndex(Gpr::R15), 15u);
  for (unsigned i = 0; i < code::kGprCount; ++i) {
    auto r = code::gprFromIndex(i);
    ASSERT_TRUE(r);
    EXPECT_EQ(code::gprIndex(*r), i);
    // The older number-taking names agree.
    EXPECT_STREQ(values::registerName(i, true), code::gprName(*r, true));
    EXPECT_STREQ(values::registerName(i, false), code::gprName(*r, false));
    EXPECT_STREQ(unwind::registerName(i), code::gprName(*r, true));
  }
  EXPECT_FALSE(code::gprFromIndex(16));
  EXPECT_STREQ(values::registerName(16, true), "?");
  EXPECT_STREQ(unwind::registerName(16), "?");
}

TEST(Registers, NonVolatile) {
  for (Gpr r : {Gpr::Rbx, Gpr::Rbp, Gpr::Rsi, Gpr::Rdi}) {
    EXPECT_TRUE(code::isNonVolatile(r, true));
    EXPECT_TRUE(code::isNonVolatile(r, false));
  }
  for (Gpr r : {Gpr::R12, Gpr::R13, Gpr::R14, Gpr::R15}) {
    EXPECT_TRUE(code::isNonVolatile(r, true));
    EXPECT_FALSE(code::isNonVolatile(r, false));
  }
  for (Gpr r : {Gpr::Rax, Gpr::Rcx, Gpr::Rdx, Gpr::Rsp, Gpr::R8, Gpr::R9, Gpr::R10, Gpr::R11})
    EXPECT_FALSE(code::isNonVolatile(r, true));
}

} // namespace
} // namespace sb::test
