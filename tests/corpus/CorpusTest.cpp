// The real corpus (npm and deb sets of ../shared/corpus): every file goes
// through info and functions without a crash, a hang or a sanitizer report,
// and the PE model agrees with llvm-readobj-16 on imports, exports and relocations.
#include "CoffTruth.h"
#include "ReadobjTruth.h"
#include "TestSupport.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

namespace sb::test {
namespace {

// A macro, not a function: GTEST_SKIP returns from the function it is in,
// and the test must end there.
#define REQUIRE_CORPUS()                                                                              \
  do {                                                                                                \
    if (corpusFiles().empty())                                                                        \
      GTEST_SKIP() << "corpus not fetched (no ../shared/corpus/fetch.sh next to this checkout)";      \
  } while (0)

TEST(Corpus, EveryFileAnalyzes) {
  REQUIRE_CORPUS();
  size_t files = 0, functions = 0;
  for (const std::string &path : corpusFiles()) {
    auto t0 = std::chrono::steady_clock::now();
    auto a = Analysis::open(path);
    ASSERT_TRUE(a) << path << ": " << a.error();
    const auto &fns = (*a)->functions();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ++files;
    functions += fns.size();
    const pe::PeImage &img = (*a)->image();
    if (img.codeAnalysisSupported() && img.headers().entryPointRva && img.isExecutableRva(img.headers().entryPointRva)) {
      EXPECT_FALSE(fns.empty()) << path;
    }
    // Invariants of the function model.
    for (size_t i = 0; i < fns.size(); ++i) {
      const auto &f = fns[i];
      if (i) {
        ASSERT_LT(fns[i - 1].rva, f.rva) << path;
      }
      ASSERT_FALSE(f.chunks.empty()) << path << " " << f.name;
      ASSERT_TRUE(f.contains(f.rva)) << path << " " << f.name;
      for (const auto &b : f.blocks)
        ASSERT_LT(b.rva, b.end) << path;
    }
    std::printf("[corpus] %-70s %-6s %7zu functions %6.2f s %zu warnings\n",
                path.substr(corpusDir().size() + 1).c_str(), pe::machineName(img.machine()), fns.size(), secs,
                img.warnings().size());
  }
  std::printf("[corpus] %zu files, %zu functions\n", files, functions);
  EXPECT_GT(files, 40u);
}

TEST(Corpus, ImportsExportsRelocationsMatchReadobj) {
  REQUIRE_CORPUS();
  size_t compared = 0;
  for (const std::string &path : corpusFiles()) {
    auto img = pe::PeImage::load(path);
    ASSERT_TRUE(img) << path;
    auto ro = readobjView(path);
    if (!ro)
      continue;   // llvm-readobj cannot read it (packed/malformed): nothing to compare with
    ReadobjView mine = modelView(*img);
    EXPECT_EQ(mine.imports, ro->imports) << path;
    EXPECT_EQ(mine.exports, ro->exports) << path;
    EXPECT_EQ(mine.relocs, ro->relocs) << path;
    ++compared;
  }
  std::printf("[corpus] imports/exports/relocations equal to llvm-readobj on %zu files\n", compared);
  EXPECT_GT(compared, 30u);
}

// onnxruntime.dll: 55,741 RUNTIME_FUNCTIONs of which 11,875 are chained.
TEST(Corpus, OnnxruntimeChainedFragments) {
  REQUIRE_CORPUS();
  std::string path = corpusDir() + "/npm/onnxruntime-node/onnxruntime.dll";
  auto a = Analysis::open(path);
  ASSERT_TRUE(a);
  const auto &rf = (*a)->image().runtimeFunctions();
  size_t chained = std::count_if(rf.begin(), rf.end(), [](const pe::RuntimeFunction &f) { return f.isChained(); });
  EXPECT_EQ(rf.size(), 55741u);
  EXPECT_EQ(chained, 11875u);
  const auto &fns = (*a)->functions();
  EXPECT_GE(fns.size(), rf.size() - chained);
  // Every chained entry is a chunk of the function of its primary entry.
  size_t attached = 0;
  for (const auto &f : rf) {
    if (!f.isChained())
      continue;
    const code::Function *owner = (*a)->functionContaining(f.begin);
    ASSERT_TRUE(owner) << std::hex << f.begin;
    bool isChunk = std::any_of(owner->chunks.begin(), owner->chunks.end(),
                               [&](const code::Range &c) { return c.rva <= f.begin && f.end <= c.end; });
    EXPECT_TRUE(isChunk);
    EXPECT_EQ(owner->pdataEntries.front(), f.primary) << std::hex << f.begin;
    attached += isChunk;
  }
  EXPECT_EQ(attached, chained);
}

TEST(Corpus, Arm64IsHeadersOnly) {
  REQUIRE_CORPUS();
  std::string path = corpusDir() + "/deb/python3-distlib/t64-arm.exe";
  auto a = Analysis::open(path);
  ASSERT_TRUE(a);
  EXPECT_EQ((*a)->image().machine(), pe::Machine::Arm64);
  EXPECT_FALSE((*a)->image().codeAnalysisSupported());
  EXPECT_FALSE((*a)->image().imports().empty());
  EXPECT_TRUE((*a)->functions().empty());
}

// GCC-built Wine modules, stripped of their COFF symbols and DWARF, scored
// against those symbols: function starts found without any symbol.
TEST(Corpus, WineStrippedFunctionStarts) {
  REQUIRE_CORPUS();
  for (const char *arch : {"wine-x64", "wine-x86"}) {
    CoffScore total;
    for (const char *m : {"notepad.exe", "regedit.exe", "wordpad.exe", "winefile.exe", "taskmgr.exe", "comctl32.dll",
                          "comdlg32.dll", "user32.dll", "kernelbase.dll", "msvcrt.dll", "shell32.dll"}) {
      std::string path = corpusDir() + "/" + arch + "/" + m;
      auto s = scoreAgainstCoffSymbols(path);
      ASSERT_TRUE(s) << path;
      std::printf("[wine] %s/%-14s truth %5zu found %5zu recall %.4f precision %.4f\n", arch, m, s->truth, s->found,
                  s->recall(), s->precision());
      total.truth += s->truth;
      total.found += s->found;
      total.hits += s->hits;
      total.named += s->named;
    }
    std::printf("[wine] %s total: recall %.4f precision %.4f\n", arch, total.recall(), total.precision());
    EXPECT_GE(total.recall(), 0.99) << arch;
    EXPECT_GE(total.precision(), 0.97) << arch;
  }
}
} // namespace
} // namespace sb::test
