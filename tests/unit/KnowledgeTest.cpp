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

// The tables cover the SDK: every common control's messages, WM_NOTIFY codes,
// WM_COMMAND notifications; spot values are the documented ones.
TEST(Knowledge, CoversTheCommonControls) {
  const Knowledge &k = Knowledge::builtin();
  struct Spot {
    const char *name;
    uint32_t id;
    const char *cls;
  };
  for (const Spot &s : {Spot{"LVM_GETITEMW", 0x104B, "SysListView32"}, Spot{"TVM_INSERTITEMW", 0x1132, "SysTreeView32"},
                        Spot{"TB_ADDBUTTONSW", 0x0444, "ToolbarWindow32"}, Spot{"TCM_INSERTITEMW", 0x133E, "SysTabControl32"},
                        Spot{"HDM_INSERTITEMW", 0x120A, "SysHeader32"}, Spot{"TTM_ADDTOOLW", 0x0432, "tooltips_class32"},
                        Spot{"SB_SETPARTS", 0x0404, "msctls_statusbar32"}, Spot{"RB_INSERTBANDW", 0x040A, "ReBarWindow32"},
                        Spot{"EM_SETCHARFORMAT", 0x0444, "RichEdit20W"}, Spot{"DTM_SETSYSTEMTIME", 0x1002, "SysDateTimePick32"},
                        Spot{"MCM_SETCURSEL", 0x1002, "SysMonthCal32"}, Spot{"CCM_SETVERSION", 0x2007, "CommonControls"},
                        Spot{"BCM_SETNOTE", 0x1609, "Button"}, Spot{"EM_SETCUEBANNER", 0x1501, "Edit"}}) {
    const MessageInfo *m = k.find(s.name);
    ASSERT_TRUE(m) << s.name;
    EXPECT_EQ(m->id, s.id) << s.name;
    EXPECT_EQ(m->controlClass, s.cls) << s.name;
  }
  EXPECT_EQ(k.find("LVM_SUBITEMHITTEST")->lParam, "LPLVHITTESTINFO plvhti");   // from the SDK's message macro
  EXPECT_EQ(k.find("WM_GETDPISCALEDSIZE")->delivery, "inout_struct:SIZE");
  EXPECT_EQ(k.controlMessage(0x00C5, "RichEdit20W")->name, "EM_LIMITTEXT");   // through the base class
  EXPECT_EQ(k.controlMessage(0x2007, "SysTreeView32")->name, "CCM_SETVERSION");
  EXPECT_FALSE(k.controlMessage(0x2007, "NoSuchClass"));
  for (auto [name, code] : {std::pair{"LVN_ITEMCHANGED", -101}, std::pair{"TVN_SELCHANGEDW", -451},
                            std::pair{"TCN_SELCHANGE", -551}, std::pair{"HDN_ITEMCLICKW", -322}, std::pair{"TBN_DROPDOWN", -710},
                            std::pair{"NM_CUSTOMDRAW", -12}, std::pair{"DTN_DATETIMECHANGE", -759},
                            std::pair{"MCN_SELCHANGE", -749}, std::pair{"TBN_SAVE", -722}}) {
    EXPECT_EQ(k.notificationCode(name), code) << name;
  }
  EXPECT_EQ(*k.notification(-722), "UDN_DELTAPOS or TBN_SAVE");
  EXPECT_EQ(k.commandNotification(0x0300, "EDIT"), "EN_CHANGE");
  EXPECT_EQ(k.commandNotification(0x0300, "RichEdit20W"), "EN_CHANGE");
  EXPECT_EQ(k.commandNotification(1, "ComboBox"), "CBN_SELCHANGE");
  EXPECT_EQ(k.commandNotification(1, "ListBox"), "LBN_SELCHANGE");
  EXPECT_EQ(k.findCommandNotification("BN_CLICKED")->controlClass, "Button");
  size_t total = 0;
  for (const char *cls : {"SysListView32", "SysTreeView32", "ToolbarWindow32", "SysTabControl32", "SysHeader32",
                          "tooltips_class32", "ReBarWindow32", "msctls_statusbar32", "msctls_trackbar32", "msctls_updown32",
                          "msctls_progress32", "SysDateTimePick32", "SysMonthCal32", "ComboBoxEx32", "SysPager", "RichEdit20W"}) {
    size_t n = 0;
    for (uint32_t id = 0x400; id < 0x3000; ++id)
      n += k.controlMessage(id, cls) && k.controlMessage(id, cls)->controlClass == cls;
    EXPECT_GE(n, 3u) << cls;
    total += n;
  }
  EXPECT_GE(total, 700u);
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
