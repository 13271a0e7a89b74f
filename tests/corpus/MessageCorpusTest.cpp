// Window-message flow on real window code, stripped of symbols first (Wine's
// comctl32, user32, comdlg32, notepad, regedit, wordpad, winefile, taskmgr,
// x64 and x86), OpenConsole.exe, isscint.dll, 7z.sfx and notifu: classes,
// procedures, handled messages and send sites found; the x64 and x86 builds
// of comctl32 register the same classes. Where a send's target class was
// recovered (a global, a structure field, GetDlgItem, GetParent, ...), a
// control message sent there must be one of that control's messages (an
// LB_ message to a list box, HDM_ to a header): the precision of the target.
#include "switchboard/messages/Knowledge.h"
#include "TestSupport.h"

#include "switchboard/messages/MessageFlow.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

namespace sb::test {
namespace {

struct TargetCheck {
  size_t agree = 0, disagree = 0;
  void add(const messages::MessageFlow &mf, const std::string &rel) {
    const messages::Knowledge &k = messages::Knowledge::builtin();
    for (const messages::Send &s : mf.sends) {
      // SendDlgItemMessage reaches a dialog's control: only the templates type it.
      if (s.api.rfind("SendDlgItemMessage", 0) == 0) {
        EXPECT_TRUE(s.targetOrigin.empty() || s.targetOrigin == "dialog item") << rel << " " << s.targetOrigin;
      }
      if (s.targetClass.empty() || !s.message || !s.message->registeredName.empty())
        continue;
      const std::string cls = k.canonicalClass(s.targetClass);
      bool known = false;
      for (uint32_t id = 0x00B0; id < 0x0400 && !known; ++id)   // a system control class of the knowledge base
        known = k.controlMessage(id, cls) != nullptr;
      for (uint32_t id = 0x1000; id < 0x1400 && !known; ++id)   // or a common control
        known = k.controlMessage(id, cls) != nullptr || k.controlMessage(id - 0xC00, cls) != nullptr;
      // Judged: the system controls' messages (0xB0..0x3FF) and the common
      // controls' own ranges (0x1000 up); WM_USER+n may be private to the sender.
      const uint32_t id = s.message->id;
      if (!known || k.controlMessages(id).empty() || id < 0x00B0 || (id >= 0x0400 && id < 0x1000))
        continue;
      if (k.controlMessage(s.message->id, cls)) {
        ++agree;
      } else {
        ++disagree;
        ADD_FAILURE() << rel << " send at " << std::hex << s.siteRva << ": " << s.messageText << " to " << s.targetClass
                      << " (" << s.targetOrigin << ")";
      }
    }
  }
};

messages::MessageFlow flowOf(const std::string &rel, bool strip) {
  std::string path = corpusDir() + "/" + rel;
  if (strip) {
    std::string tmp = (std::filesystem::temp_directory_path() / "sb_messages_corpus").string();
    std::filesystem::create_directories(tmp);
    std::string out = tmp + "/" + std::filesystem::path(rel).parent_path().string() + "_" +
                      std::filesystem::path(rel).filename().string();
    EXPECT_EQ(runCommand("llvm-objcopy-16 --strip-all '" + path + "' '" + out + "'"), 0) << rel;
    path = out;
  }
  auto a = Analysis::open(path);
  EXPECT_TRUE(a) << path;
  if (!a)
    return {};
  messages::MessageFlow mf = messages::analyzeMessages(**a, api::ApiTable::builtin());
  size_t handled = 0, linked = 0;
  for (const auto &p : mf.procedures)
    handled += p.cases.size();
  for (const auto &s : mf.sends)
    linked += !s.targets.empty();
  std::printf("[messages] %-28s %3zu classes %3zu procedures %5zu handled messages %4zu send sites (%zu linked)\n",
              rel.c_str(), mf.classes.size(), mf.procedures.size(), handled, mf.sends.size(), linked);
  return mf;
}

TEST(MessageCorpus, WindowCode) {
  if (corpusFiles().empty())
    GTEST_SKIP() << "corpus not fetched";
  std::set<std::string> classes[2];
  TargetCheck check;
  size_t commandCodes = 0;   // WM_COMMAND cases that test HIWORD(wParam) (EN_CHANGE, CBN_SELCHANGE, ...)
  for (int arch = 0; arch < 2; ++arch)
    for (const char *m : {"comctl32.dll", "user32.dll", "comdlg32.dll", "notepad.exe", "regedit.exe", "wordpad.exe",
                          "winefile.exe", "taskmgr.exe"}) {
      std::string rel = std::string(arch ? "wine-x86/" : "wine-x64/") + m;
      messages::MessageFlow mf = flowOf(rel, true);
      EXPECT_FALSE(mf.procedures.empty()) << rel;
      check.add(mf, rel);
      for (const auto &p : mf.procedures)
        for (const auto &c : p.cases)
          commandCodes += c.commandCodes.size();
      if (std::string(m) == "comctl32.dll") {
        for (const auto &c : mf.classes)
          classes[arch].insert(c.name);
        size_t handled = 0;
        for (const auto &p : mf.procedures)
          handled += p.cases.size();
        EXPECT_GE(mf.classes.size(), 20u);
        EXPECT_GE(handled, 500u);
        // Every class's procedure has its dispatch read (SysLink's starts with
        // a __chkstk probe, which must not hide the message register).
        for (const auto &p : mf.procedures)
          if (p.kind == messages::ProcKind::Window && !p.classes.empty()) {
            EXPECT_FALSE(p.cases.empty()) << rel << " " << p.classes[0];
          }
      }
    }
  EXPECT_EQ(classes[0], classes[1]);
  for (const char *rel : {"npm/node-pty/win32-x64/OpenConsole.exe", "npm/innosetup/isscint.dll", "npm/7zip/7z.sfx"}) {
    messages::MessageFlow mf = flowOf(rel, false);
    EXPECT_FALSE(mf.procedures.empty()) << rel;
    check.add(mf, rel);
  }
  // notifu shows balloons with Shell_NotifyIcon and MessageBoxW: it registers
  // no window class and sends no message.
  for (const char *rel : {"npm/node-notifier/notifu.exe", "npm/node-notifier/notifu64.exe"}) {
    messages::MessageFlow mf = flowOf(rel, false);
    EXPECT_TRUE(mf.classes.empty() && mf.sends.empty()) << rel;
  }
  std::printf("[messages] control messages to a recovered target class: %zu of the class, %zu not\n", check.agree,
              check.disagree);
  EXPECT_GE(check.agree, 300u);
  std::printf("[messages] WM_COMMAND notification codes tested: %zu\n", commandCodes);
  EXPECT_GE(commandCodes, 60u);
}

} // namespace
} // namespace sb::test
