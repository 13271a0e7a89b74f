// Every .pdata entry of every x64 file of the npm, deb and wine-x64 sets:
// decodes, agrees with llvm-readobj-16, has a named handler, and its prolog
// agrees with its unwind codes (all of these are compiler output).
#include "ReadobjUnwind.h"
#include "TestSupport.h"

#include "code/Decoder.h"   // internal
#include "switchboard/unwind/Frame.h"
#include "switchboard/unwind/Handlers.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

namespace sb::test {
namespace {

std::vector<std::string> x64Files() {
  std::vector<std::string> files = corpusFiles();
  namespace fs = std::filesystem;
  fs::path wine = fs::path(corpusDir()) / "wine-x64";
  if (fs::exists(wine))
    for (auto &e : fs::directory_iterator(wine))
      if (e.is_regular_file())
        files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(UnwindCorpus, EveryEntryDecodesAndAgrees) {
  if (corpusFiles().empty())
    GTEST_SKIP() << "corpus not fetched";
  size_t files = 0, entries = 0, chained = 0, compared = 0, unnamed = 0, mismatches = 0, warnings = 0;
  std::set<std::pair<std::string, uint32_t>> disagreeing;   // (file, function)
  std::map<std::string, size_t> handlers;
  for (const std::string &path : x64Files()) {
    auto a = Analysis::open(path);
    ASSERT_TRUE(a) << path;
    const pe::PeImage &img = (*a)->image();
    if (img.machine() != pe::Machine::X64 || img.runtimeFunctions().empty())
      continue;
    ++files;
    unwind::ExceptionDirectory dir(img);
    code::Decoder dec(true, img.imageBase());
    for (const auto &e : img.runtimeFunctions()) {
      ++entries;
      chained += e.isChained();
      auto chain = dir.chain(e);
      ASSERT_FALSE(chain.empty());
      for (const auto &l : chain) {
        EXPECT_TRUE(l.error.empty()) << path << ": " << l.error;
        ASSERT_TRUE(l.info) << path << std::hex << " " << e.begin;
        warnings += l.info->warnings.size();
      }
      for (const auto &m : unwind::checkProlog(dir, dec, e)) {
        ++mismatches;
        disagreeing.insert({path, m.begin});
        std::printf("[unwind] prolog: %s %x: %s\n", path.c_str(), m.begin, m.message.c_str());
      }
    }
    unwind::HandlerCatalog catalog(**a);
    for (const auto &[rva, h] : catalog.all()) {
      handlers[h.name] += h.users;
      if (h.kind == unwind::HandlerKind::Unknown && h.name.rfind("sub_", 0) == 0) {
        ++unnamed;
        ADD_FAILURE() << path << ": unnamed handler " << h.name;
      }
    }
    auto ro = readobjUnwind(path, img.imageBase());
    if (ro) {
      UnwindView mine = modelUnwind(img);
      EXPECT_EQ(mine.entries, ro->entries) << path;
      compared += mine.entries.size();
    }
  }
  std::printf("[unwind] %zu x64 files, %zu RUNTIME_FUNCTIONs (%zu chained), %zu compared with llvm-readobj, "
              "%zu decode warnings, %zu prolog disagreements, %zu unnamed handlers\n",
              files, entries, chained, compared, warnings, mismatches, unnamed);
  for (const auto &[n, c] : handlers)
    std::printf("[unwind]   %7zu  %s\n", c, n.c_str());
  EXPECT_GT(files, 20u);
  // Compiler output agrees with its unwind data; what disagrees is
  // hand-written assembly (Wine's ntdll), a handful of functions at most.
  for (const auto &[file, fn] : disagreeing)
    EXPECT_NE(file.find("wine-x64/ntdll.dll"), std::string::npos) << file << " " << std::hex << fn;
  EXPECT_LE(disagreeing.size(), 8u);
  EXPECT_LE(warnings, 40u);
}

} // namespace
} // namespace sb::test
