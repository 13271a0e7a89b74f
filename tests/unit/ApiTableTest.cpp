// The API table: the built-in JSON parses and expands A/W entries, layouts
// follow the pointer size, enums and message names resolve, bad tables are
// refused with a message.
#include "switchboard/api/ApiTable.h"

#include <gtest/gtest.h>

namespace sb::api {
namespace {

TEST(ApiTable, BuiltinExpandsAndNames) {
  const ApiTable &t = ApiTable::builtin();
  EXPECT_GE(t.size(), 130u);
  const Api *sm = t.find("SendMessageW");
  ASSERT_TRUE(sm);
  ASSERT_EQ(sm->params.size(), 4u);
  EXPECT_EQ(sm->params[1].kind, Kind::Message);
  const Api *cwA = t.find("CreateWindowExA"), *cwW = t.find("CreateWindowExW");
  ASSERT_TRUE(cwA && cwW);
  EXPECT_EQ(cwA->params[1].kind, Kind::ClassA);
  EXPECT_EQ(cwW->params[2].kind, Kind::StringW);
  EXPECT_TRUE(t.find("NdrClientCall2")->cdecl);
  EXPECT_EQ(*t.messageName(0x000C), "WM_SETTEXT");
  EXPECT_EQ(*t.messageName(0x0402), "WM_USER+2");
  EXPECT_EQ(*t.messageName(0x8000), "WM_APP");
  EXPECT_FALSE(t.messageName(0xC123));   // registered messages have no fixed name
  EXPECT_EQ(*t.enumText("window_long", -4), "GWLP_WNDPROC");
  EXPECT_TRUE(t.isCdeclDll("MSVCRT.dll"));
  EXPECT_TRUE(t.isCdeclDll("api-ms-win-crt-runtime-l1-1-0.dll"));
  EXPECT_FALSE(t.isCdeclDll("user32.dll"));
}

TEST(ApiTable, LayoutsFollowPointerSize) {
  const ApiTable &t = ApiTable::builtin();
  auto w64 = t.layout("WNDCLASSEXW", true), w32 = t.layout("WNDCLASSEXW", false);
  ASSERT_EQ(w64.size(), 12u);
  ASSERT_EQ(w32.size(), 12u);
  // cbSize, style, lpfnWndProc, cbClsExtra, cbWndExtra, hInstance, ..., lpszClassName, hIconSm
  EXPECT_EQ(w64[2].offset, 8u);
  EXPECT_EQ(w64[10].offset, 64u);
  EXPECT_EQ(w64.back().offset + w64.back().size, 80u);   // sizeof(WNDCLASSEXW) on x64
  EXPECT_EQ(w32[2].offset, 8u);
  EXPECT_EQ(w32[10].offset, 40u);
  EXPECT_EQ(w32.back().offset + w32.back().size, 48u);
  EXPECT_EQ(w64[10].kind, Kind::ClassW);
}

TEST(ApiTable, MergeAndErrors) {
  ApiTable t = ApiTable::builtin();
  EXPECT_TRUE(t.merge(R"({"apis":[{"name":"MyApi","dll":"my.dll","params":[["code","ioctl"]]}]})"));
  ASSERT_TRUE(t.find("MyApi"));
  EXPECT_EQ(t.find("MyApi")->params[0].kind, Kind::Ioctl);
  EXPECT_FALSE(t.merge("not json"));
  EXPECT_FALSE(t.merge(R"({"apis":[{"name":"X","params":[["a","no_such_kind"]]}]})"));
  EXPECT_FALSE(t.merge(R"({"apis":[{"params":[]}]})"));
  EXPECT_EQ(ioctlText(0x222003), "CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, METHOD_NEITHER, FILE_ANY_ACCESS)");
  // Ordinal imports: the built-in comctl32 subclassing helpers, any case of
  // the DLL name, extendable, and malformed entries refused.
  EXPECT_EQ(t.ordinalName("COMCTL32.dll", 410), "SetWindowSubclass");
  EXPECT_EQ(t.ordinalName("comctl32.dll", 413), "DefSubclassProc");
  EXPECT_FALSE(t.ordinalName("comctl32.dll", 9999));
  EXPECT_TRUE(t.merge(R"({"ordinals":{"my.dll":{"7":"Seven"}}})"));
  EXPECT_EQ(t.ordinalName("MY.DLL", 7), "Seven");
  EXPECT_FALSE(t.merge(R"({"ordinals":{"my.dll":{"x7":"Seven"}}})"));
  EXPECT_FALSE(t.merge(R"({"ordinals":{"my.dll":{"70000":"Big"}}})"));
}

} // namespace
} // namespace sb::api
