// Mutated copies of real files (truncations, random byte flips, oversized
// counts in headers) must end with a clear error or a partial result: never a
// crash, a hang or a sanitizer report.
#include "TestSupport.h"

#include "code/Decoder.h"   // internal
#include "switchboard/calls/CallSites.h"
#include "switchboard/calls/ParamFlow.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/unwind/Frame.h"
#include "switchboard/unwind/Handlers.h"
#include "switchboard/unwind/ScopeTable.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>

namespace sb::test {
namespace {

std::vector<std::string> inputs() {
  std::vector<std::string> v;
  for (const char *arch : {"x64", "x86"})
    for (const char *f : {"gui_app.exe", "shapes.exe", "plugin.dll", "seh_app.exe", "classes.exe"})
      v.push_back(fixturePath(arch, f));
  v.push_back(fixturePath("x64", "unwind_app.exe"));
  for (const char *c : {"deb/simplesamlphp/hiddeninput.exe", "deb/python3-distlib/t64.exe",
                        "deb/python3-distlib/w32.exe", "npm/node-notifier/notifu64.exe",
                        "deb/nsis-common/amd64-unicode/nsDialogs.dll", "deb/nsis-common/x86-unicode/nsDialogs.dll",
                        "deb/clamav-testfiles/clam-upack.exe", "deb/clamav-testfiles/clam-mew.exe",
                        "deb/python3-distlib/t64-arm.exe"}) {
    std::string p = corpusDir() + "/" + c;
    if (!readFile(p).empty())
      v.push_back(p);
  }
  return v;
}

// Parses and analyzes one buffer: a damaged copy must not take much longer
// than the intact file (a hang guard). The budget is relative to the intact
// file's own time, measured in the same run, so that a loaded machine or a
// sanitizer slows both alike.
double analyze(const std::vector<uint8_t> &bytes, const std::string &what, double budget = 1e9) {
  auto t0 = std::chrono::steady_clock::now();
  auto img = pe::PeImage::parse(bytes);
  if (!img) {
    EXPECT_FALSE(img.error().empty()) << what;
    return 0;
  }
  AnalysisOptions o;
  o.threads = 1;
  auto a = Analysis::fromImage(img.take(), "mutant", o);
  const auto &fns = a->functions();
  for (const auto &f : fns)
    EXPECT_FALSE(f.chunks.empty()) << what;
  // C++ EH data, the object model and the unwind layer on the same damaged image.
  (void)eh::analyzeEh(*a);
  (void)cxx::analyzeObjectModel(*a);
  // Argument recovery and parameter provenance on the same image.
  for (const char *api : {"SendMessageW", "GetProcAddress", "RegisterClassExW"})
    if (auto t = calls::resolveTarget(*a, api::ApiTable::builtin(), api))
      (void)calls::findCallSites(*a, api::ApiTable::builtin(), *t, {1, 12});
  for (size_t i = 0; i < a->functions().size() && i < 64; ++i)
    (void)calls::analyzeParams(*a, a->functions()[i]);
  (void)messages::analyzeMessages(*a, api::ApiTable::builtin());
  const pe::PeImage &pe = a->image();
  code::Decoder dec(pe.is64(), pe.imageBase());
  if (pe.machine() == sb::pe::Machine::X64) {
    unwind::ExceptionDirectory dir(pe);
    unwind::HandlerCatalog catalog(*a);
    for (const auto &e : pe.runtimeFunctions()) {
      for (const auto &l : dir.chain(e))
        if (l.info)
          (void)unwind::decodeHandlerData(*a, catalog, *l.info, l.begin, l.end);
      (void)unwind::computeFrame(dir, dec, e.begin);
      (void)unwind::checkProlog(dir, dec, e);
    }
  } else if (pe.machine() == sb::pe::Machine::X86) {
    for (size_t i = 0; i < fns.size(); ++i)
      (void)unwind::findX86ScopeTable(pe, dec, fns[i].rva, i + 1 < fns.size() ? fns[i + 1].rva : 0xFFFFFFFFu);
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(secs, budget) << what << " took " << secs << " s";
  return secs;
}

// What a damaged copy of `full` may take: 20 s plus five times the intact
// file's analysis.
double budgetFor(const std::vector<uint8_t> &full, const std::string &path) {
  return 20.0 + 5.0 * analyze(full, path + " (intact)");
}

void put(std::vector<uint8_t> &b, uint64_t off, uint32_t v, size_t n) {
  if (off + n <= b.size())
    std::memcpy(b.data() + off, &v, n);
}

TEST(Mutation, Truncations) {
  for (const std::string &path : inputs()) {
    auto full = readFile(path);
    const double budget = budgetFor(full, path);
    for (int k = 1; k <= 24; ++k) {
      size_t n = full.size() * k / 25;
      analyze(std::vector<uint8_t>(full.begin(), full.begin() + n), path + " cut at " + std::to_string(n), budget);
    }
  }
}

TEST(Mutation, RandomByteFlips) {
  std::mt19937 rng(20261121);
  for (const std::string &path : inputs()) {
    auto full = readFile(path);
    const double budget = budgetFor(full, path);
    for (int variant = 0; variant < 40; ++variant) {
      auto b = full;
      // Half the variants hit the headers, where damage matters most.
      size_t span = variant % 2 ? std::min<size_t>(b.size(), 0x400) : b.size();
      int flips = 1 + int(rng() % 64);
      for (int i = 0; i < flips; ++i)
        b[rng() % span] ^= uint8_t(1 + rng() % 255);
      analyze(b, path + " flip variant " + std::to_string(variant), budget);
    }
  }
}

TEST(Mutation, OversizedHeaderCounts) {
  for (const std::string &path : inputs()) {
    auto full = readFile(path);
    const double budget = budgetFor(full, path);
    auto img = pe::PeImage::parse(full);
    ASSERT_TRUE(img) << path;
    const auto &h = img->headers();
    uint64_t fh = h.ntOffset + 4, oh = fh + 20, dd = oh + (h.is64 ? 112 : 96);
    std::vector<std::pair<uint64_t, std::pair<uint32_t, size_t>>> edits = {
        {fh + 2, {0xFFFF, 2}},        // NumberOfSections
        {fh + 2, {0, 2}},
        {fh + 16, {0xFFFF, 2}},       // SizeOfOptionalHeader
        {fh + 12, {0x7FFFFFFF, 4}},   // NumberOfSymbols
        {fh + 8, {0x10, 4}},          // PointerToSymbolTable
        {dd - 4, {0xFFFFFFFF, 4}},    // NumberOfRvaAndSizes
        {oh + 60, {0xFFFFFFFF, 4}},   // SizeOfHeaders
        {oh + 16, {0xFFFFFFF0, 4}},   // AddressOfEntryPoint
        {0x3c, {uint32_t(full.size() - 2), 4}},   // e_lfanew at the end
    };
    for (unsigned d = 0; d < 16; ++d) {
      edits.push_back({dd + 8 * d + 4, {0xFFFFFFFF, 4}});   // directory size
      edits.push_back({dd + 8 * d, {0xFFFFFFF0, 4}});       // directory RVA
      edits.push_back({dd + 8 * d, {h.sizeOfHeaders / 2, 4}});   // directory inside the headers
    }
    // Counts inside directories: export and import tables, debug, TLS.
    if (auto o = img->rvaToOffset(h.directories[pe::kDirExport].rva); o && h.directories[pe::kDirExport].rva) {
      edits.push_back({*o + 20, {0xFFFFFFFF, 4}});
      edits.push_back({*o + 24, {0xFFFFFFFF, 4}});
      edits.push_back({*o + 28, {0xFFFFFFF0, 4}});
    }
    if (auto o = img->rvaToOffset(h.directories[pe::kDirImport].rva); o && h.directories[pe::kDirImport].rva) {
      edits.push_back({*o, {0xFFFFFFF0, 4}});
      edits.push_back({*o + 16, {*o == 0 ? 0 : uint32_t(h.directories[pe::kDirImport].rva), 4}});   // IAT = descriptors
    }
    for (size_t i = 0; i < std::min<size_t>(img->sections().size(), 4); ++i) {
      uint64_t s = oh + h.sizeOfOptionalHeader + 40 * i;
      edits.push_back({s + 8, {0xFFFFFFFF, 4}});   // VirtualSize
      edits.push_back({s + 16, {0xFFFFFFFF, 4}});  // SizeOfRawData
      edits.push_back({s + 20, {0xFFFFFFF0, 4}});  // PointerToRawData
    }
    for (auto &[off, val] : edits) {
      auto b = full;
      put(b, off, val.first, val.second);
      analyze(b, path + " edit at " + std::to_string(off), budget);
    }
  }
}

} // namespace
} // namespace sb::test
