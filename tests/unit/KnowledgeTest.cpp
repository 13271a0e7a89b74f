// The message knowledge base: the built-in JSON parses; window messages carry
// their delivery class; control messages resolve by class and alias; ids
// shared by several control classes are all found; ranges are named.
#include "switchboard/messages/Knowledge.h"

#include <gtest/gtest.h>

namespace sb::messages {
namespace {

TEST(Knowledge, WindowAndControlMessages) {
  const Knowledge &k = Knowledge::builtin();
  const MessageInfo *draw = k.find("WM_DRAWITEM");
  ASSERT_TRUE(draw);
  EXPECT_EQ(draw->id, 0x2Bu);
  EXPECT_EQ(draw->delivery, "in_struct:DRAWITEMSTRUCT");
  EXPECT_EQ(k.message(0x000C)->delivery, "in_string:lParam");
  EXPECT_EQ(k.message(0x000D)->delivery, "out_string:lParam");
  EXPECT_EQ(k.message(0x004E)->delivery, "pointer_not_marshalled");
  EXPECT_EQ(k.message(0x004A)->name, "WM_COPYDATA");
  ASSERT_TRUE(k.controlMessage(0x00F5, "BUTTON"));
  EXPECT_EQ(k.controlMessage(0x00F5, "BUTTON")->name, "BM_CLICK");
  EXPECT_EQ(k.controlMessage(0x0402, "msctls_progress32")->name, "PBM_SETPOS");
  EXPECT_FALSE(k.controlMessage(0x0402, "Button"));
  EXPECT_GE(k.controlMessages(0x0402).size(), 3u);   // PBM_SETPOS, TB_CHECKBUTTON, RB_DELETEBAND, ...
  EXPECT_EQ(k.find("LVM_INSERTITEMW")->controlClass, "SysListView32");
  EXPECT_EQ(k.find("LVM_INSERTITEMW")->delivery, "pointer_not_marshalled");   // WM_USER range: not marshalled
  EXPECT_EQ(*k.notification(-2), "NM_CLICK");
  EXPECT_EQ(k.canonicalClass("edit"), "Edit");
  EXPECT_NE(k.deliveryText("in_struct:X").find("copied"), std::string::npos);
  EXPECT_EQ(messageRange(0x0405).rfind("WM_USER+5", 0), 0u);
  EXPECT_EQ(messageRange(0x8001).rfind("WM_APP+1", 0), 0u);
  EXPECT_NE(messageRange(0xC123).find("RegisterWindowMessage"), std::string::npos);
}

TEST(Knowledge, MergeRejectsBadTables) {
  Knowledge k;
  EXPECT_FALSE(k.merge("[]"));
  EXPECT_FALSE(k.merge(R"({"messages":[{"name":"X"}]})"));
  EXPECT_TRUE(k.merge(R"({"messages":[{"id":"0x8001","name":"WM_MYAPP","delivery":"plain"}]})"));
  EXPECT_EQ(k.message(0x8001)->name, "WM_MYAPP");
}

} // namespace
} // namespace sb::messages
