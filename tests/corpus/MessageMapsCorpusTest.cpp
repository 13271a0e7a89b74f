// Framework message maps on real binaries.
//  - Microsoft's msalruntime.dll (x64, x86; corpus2's npm set): ATL windows.
//    Truth from ATL's own source (atlhost.h, the same in every ATL of VS
//    2015-2022): CAxHostWindow's map handles WM_ERASEBKGND, WM_PAINT,
//    WM_SIZE, WM_SETFOCUS, WM_KILLFOCUS and the registered WM_ATLGETHOST /
//    WM_ATLGETCONTROL, and reflects notifications; msalruntime's own
//    Msai::WebBrowserHost is a CWindowImpl registered as "MSALWebBrowserHost".
//  - every PE file of both corpora (none is MFC): no MFC map may be found,
//    and ATL maps only where the image holds ATL (an ATL:: RTTI name).
// Printed: what each file with a map holds.
#include "TestSupport.h"

#include "switchboard/messages/MessageFlow.h"
#include "switchboard/msgmaps/MessageMaps.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

namespace sb::test {
namespace {

std::string corpus2Dir() { return SB_CORPUS2_DIR; }

std::set<std::string> handled(const api::ApiTable &t, const messages::Procedure &p) {
  std::set<std::string> out;
  for (const messages::Case &c : p.cases)
    if (c.section == 0 && !c.chainedFrom)
      out.insert(c.message.registeredName.empty() ? t.messageName(c.message.id).value_or(hex(c.message.id))
                                                  : "registered:" + c.message.registeredName);
  return out;
}

class MsalRuntime : public ::testing::TestWithParam<std::string> {};

TEST_P(MsalRuntime, AtlWindowsAndHost) {
  const std::string path = corpus2Dir() + "/npm/msal-node-runtime/" + GetParam();
  if (!std::filesystem::exists(path))
    GTEST_SKIP() << path << " not fetched (corpus2's npm set)";
  AnalysisOptions o;
  o.findPdb = false;
  auto a = Analysis::open(path, o);
  ASSERT_TRUE(a);
  const msgmaps::MessageMaps &mm = (*a)->messageMaps();
  const messages::MessageFlow &mf = (*a)->messageFlow();
  EXPECT_TRUE(mm.mfc.empty());
  const messages::Procedure *host = nullptr, *browser = nullptr;
  for (const messages::Procedure &p : mf.procedures) {
    if (p.kind != messages::ProcKind::Atl)
      continue;
    std::printf("  %s: ATL map %s of %s, %zu cases\n", GetParam().c_str(), hex(p.rva).c_str(), p.cxxClass.c_str(),
                p.cases.size());
    if (p.cxxClass.find("CAxHostWindow") != std::string::npos)
      host = &p;
    if (p.cxxClass == "Msai::WebBrowserHost")
      browser = &p;
  }
  ASSERT_TRUE(host);
  ASSERT_TRUE(browser);
  const std::set<std::string> hostHandles = handled((*a)->apiTable(), *host);
  for (const char *m : {"WM_ERASEBKGND", "WM_PAINT", "WM_SIZE", "WM_SETFOCUS", "WM_KILLFOCUS", "registered:WM_ATLGETHOST",
                        "registered:WM_ATLGETCONTROL"})
    EXPECT_TRUE(hostHandles.count(m)) << m;
  const msgmaps::AtlMap *hostMap = mm.atlAt(host->rva);
  ASSERT_TRUE(hostMap);
  EXPECT_TRUE(std::any_of(hostMap->forwards.begin(), hostMap->forwards.end(),
                          [](const msgmaps::AtlForward &f) { return f.kind == msgmaps::AtlForwardKind::Reflect; }));
  EXPECT_FALSE(browser->cases.empty());
  std::set<std::string> classes;
  for (const msgmaps::AtlWindowClass &c : mm.atlClasses)
    classes.insert(c.autoName ? "ATL:%p" : c.name);
  EXPECT_TRUE(classes.count("MSALWebBrowserHost"));
  EXPECT_TRUE(classes.count("ATL:%p"));
}

INSTANTIATE_TEST_SUITE_P(Corpus2, MsalRuntime, ::testing::Values("x64/msalruntime.dll", "x86/msalruntime_x86.dll"));

// Precision over everything else: no corpus file is MFC, and ATL maps need ATL.
TEST(MessageMapsCorpus, NoMapsWithoutTheFramework) {
  std::vector<std::string> files = corpusFiles();
  namespace fs = std::filesystem;
  for (const std::string &dir : {corpusDir() + "/wine-x64", corpusDir() + "/wine-x86", corpus2Dir() + "/npm"})
    if (fs::exists(dir))
      for (auto &e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file())
          files.push_back(e.path().string());
  if (files.empty())
    GTEST_SKIP() << "corpus not fetched";
  size_t images = 0, withAtl = 0;
  for (const std::string &f : files) {
    AnalysisOptions o;
    o.findPdb = false;
    auto a = Analysis::open(f, o);
    if (!a || !(*a)->image().codeAnalysisSupported())
      continue;
    ++images;
    const msgmaps::MessageMaps &mm = (*a)->messageMaps();
    EXPECT_TRUE(mm.mfc.empty()) << f << ": " << mm.mfc.size() << " MFC maps";
    if (mm.atl.empty())
      continue;
    ++withAtl;
    std::vector<uint8_t> bytes = readFile(f);
    static const std::string kAtl = "@ATL@@";
    const bool atlRtti = std::search(bytes.begin(), bytes.end(), kAtl.begin(), kAtl.end()) != bytes.end();
    EXPECT_TRUE(atlRtti) << f << ": " << mm.atl.size() << " ATL maps without ATL";
    std::printf("  %s: %zu ATL maps, %zu ATL window classes\n", f.c_str(), mm.atl.size(), mm.atlClasses.size());
  }
  std::printf("  %zu images, %zu with ATL maps, 0 MFC expected\n", images, withAtl);
}

} // namespace
} // namespace sb::test
