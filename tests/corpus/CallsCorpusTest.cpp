// Argument recovery on real binaries: the calls of the window APIs in
// OpenConsole.exe, isscint.dll (x86) and Wine's notepad.exe and comctl32.dll
// (x64 and x86, stripped of their symbols first): the share of arguments
// recovered, and of the key ones (message ids, class names, procedures).
#include "TestSupport.h"

#include "switchboard/calls/CallSites.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace sb::test {
namespace {

struct Share {
  size_t args = 0, recovered = 0, key = 0, keyRecovered = 0, sites = 0;
};

// The arguments that say where a message goes or who receives it.
bool isKey(const std::string &api, const std::string &arg) {
  if (arg == "Msg")
    return true;
  if (api.rfind("CreateWindowEx", 0) == 0)
    return arg == "lpClassName";
  if (api.rfind("DialogBoxParam", 0) == 0 || api.rfind("CreateDialogParam", 0) == 0)
    return arg == "lpDialogFunc" || arg == "lpTemplateName";
  if (api.rfind("RegisterClass", 0) == 0)
    return true;
  return false;
}

Share measure(const std::string &path, const std::vector<std::string> &apis) {
  Share s;
  auto a = Analysis::open(path);
  EXPECT_TRUE(a) << path;
  if (!a)
    return s;
  const api::ApiTable &table = api::ApiTable::builtin();
  for (const std::string &api : apis) {
    auto t = calls::resolveTarget(**a, table, api);
    if (!t)
      continue;
    for (const calls::CallSite &cs : calls::findCallSites(**a, table, *t)) {
      ++s.sites;
      for (const calls::Argument &arg : cs.args) {
        ++s.args;
        bool known = arg.kind != calls::ArgKind::Unknown;
        s.recovered += known;
        if (!isKey(api, arg.name))
          continue;
        ++s.key;
        if (!arg.fields.empty()) {   // a window class: its procedure and name
          bool proc = false, name = false;
          for (const auto &[f, v] : arg.fields) {
            proc |= f == "lpfnWndProc" && v != "?";
            name |= f == "lpszClassName" && v != "?";
          }
          s.keyRecovered += proc && name;
        } else {
          s.keyRecovered += arg.kind == calls::ArgKind::Constant || arg.kind == calls::ArgKind::String ||
                            arg.kind == calls::ArgKind::ImageAddress;
        }
      }
    }
  }
  return s;
}

TEST(CallsCorpus, WindowApiArguments) {
  if (corpusFiles().empty())
    GTEST_SKIP() << "corpus not fetched";
  const std::vector<std::string> apis = {"RegisterClassExW", "RegisterClassW", "CreateWindowExW", "SendMessageW",
                                         "PostMessageW",     "DialogBoxParamW", "CreateDialogParamW"};
  std::string tmp = std::filesystem::temp_directory_path() / "sb_calls_corpus";
  std::filesystem::create_directories(tmp);
  Share total;
  for (const char *rel : {"npm/node-pty/win32-x64/OpenConsole.exe", "npm/innosetup/isscint.dll", "wine-x64/notepad.exe",
                          "wine-x64/comctl32.dll", "wine-x86/notepad.exe", "wine-x86/comctl32.dll"}) {
    std::string path = corpusDir() + "/" + rel;
    if (std::string(rel).rfind("wine", 0) == 0) {
      // What real targets look like: no COFF symbols, no DWARF.
      std::string stripped = tmp + "/" + std::filesystem::path(rel).parent_path().string() + "_" +
                             std::filesystem::path(rel).filename().string();
      ASSERT_EQ(runCommand("llvm-objcopy-16 --strip-all '" + path + "' '" + stripped + "'"), 0) << rel;
      path = stripped;
    }
    Share s = measure(path, apis);
    std::printf("[calls] %-40s %4zu sites, arguments %5zu/%5zu (%.2f), key %4zu/%4zu (%.2f)\n", rel, s.sites,
                s.recovered, s.args, s.args ? double(s.recovered) / s.args : 0.0, s.keyRecovered, s.key,
                s.key ? double(s.keyRecovered) / s.key : 0.0);
    EXPECT_GT(s.sites, 0u) << rel;
    total.sites += s.sites;
    total.args += s.args;
    total.recovered += s.recovered;
    total.key += s.key;
    total.keyRecovered += s.keyRecovered;
  }
  double all = double(total.recovered) / double(total.args), key = double(total.keyRecovered) / double(total.key);
  std::printf("[calls] total %zu sites: arguments %.3f, key arguments %.3f\n", total.sites, all, key);
  EXPECT_GE(all, 0.75);
  EXPECT_GE(key, 0.90);
}

} // namespace
} // namespace sb::test
