// Window-message flow on real window code, stripped of symbols first (Wine's
// comctl32, comdlg32, notepad, wordpad, winefile, taskmgr, x64 and x86),
// OpenConsole.exe, isscint.dll and 7z.sfx: classes, procedures, handled
// messages and send sites found; the x64 and x86 builds of comctl32 register
// the same classes.
#include "TestSupport.h"

#include "switchboard/messages/MessageFlow.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

namespace sb::test {
namespace {

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
  for (int arch = 0; arch < 2; ++arch)
    for (const char *m : {"comctl32.dll", "comdlg32.dll", "notepad.exe", "wordpad.exe", "winefile.exe", "taskmgr.exe"}) {
      std::string rel = std::string(arch ? "wine-x86/" : "wine-x64/") + m;
      messages::MessageFlow mf = flowOf(rel, true);
      EXPECT_FALSE(mf.procedures.empty()) << rel;
      if (std::string(m) == "comctl32.dll") {
        for (const auto &c : mf.classes)
          classes[arch].insert(c.name);
        size_t handled = 0;
        for (const auto &p : mf.procedures)
          handled += p.cases.size();
        EXPECT_GE(mf.classes.size(), 20u);
        EXPECT_GE(handled, 500u);
      }
    }
  EXPECT_EQ(classes[0], classes[1]);
  for (const char *rel : {"npm/node-pty/win32-x64/OpenConsole.exe", "npm/innosetup/isscint.dll", "npm/7zip/7z.sfx"})
    EXPECT_FALSE(flowOf(rel, false).procedures.empty()) << rel;
}

} // namespace
} // namespace sb::test
