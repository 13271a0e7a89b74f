#include "switchboard/analysis/Analysis.h"
#include "switchboard/support/Demangle.h"

#include <gtest/gtest.h>

namespace sb {
namespace {
TEST(Demangle, MsvcNames) {
  EXPECT_EQ(demangleMsvc("?foo@Bar@@QEAAXXZ"), "public: void __cdecl Bar::foo(void)");
  EXPECT_EQ(demangleMsvcShort("?foo@Bar@@QEAAXXZ"), "Bar::foo(void)");
  EXPECT_EQ(demangleMsvc("??_7Shape@@6B@"), "const Shape::`vftable'");
  EXPECT_EQ(demangleMsvc("plain_c_name"), "plain_c_name");
  EXPECT_EQ(demangleMsvc("?@@@@@"), "?@@@@@");   // malformed: returned unchanged
  EXPECT_EQ(demangleMsvc(""), "");
}

TEST(Demangle, X86Undecorate) {
  EXPECT_EQ(undecorate("_WndProc@16"), "WndProc");
  EXPECT_EQ(undecorate("@fastcall@8"), "fastcall");
  EXPECT_EQ(undecorate("_main"), "main");
  EXPECT_EQ(undecorate("__imp__SendMessageW@16"), "SendMessageW");
  EXPECT_EQ(undecorate("?x@@YAXXZ"), "?x@@YAXXZ");
}
} // namespace
} // namespace sb
