// C++ EH data of real binaries: FH4 (onnxruntime and its binding,
// OpenConsole), FH3 (signtool x64, hiddeninput x86, 7-Zip's old
// __CxxFrameHandler data). Every FuncInfo decodes; every funclet lies in a
// function; throw sites resolve their types.
#include "TestSupport.h"

#include "switchboard/eh/EhModel.h"

#include <gtest/gtest.h>

#include <chrono>

namespace sb::test {
namespace {

TEST(EhCorpus, FuncInfosDecodeAndThrowsResolve) {
  if (corpusFiles().empty())
    GTEST_SKIP() << "corpus not fetched";
  for (const char *rel : {"npm/onnxruntime-node/onnxruntime.dll", "npm/onnxruntime-node/onnxruntime_binding.node",
                          "npm/node-pty/win32-x64/OpenConsole.exe", "npm/electron-windows-sign/signtool.exe",
                          "deb/simplesamlphp/hiddeninput.exe", "npm/7zip-bin/x64/7za.exe",
                          "npm/7zip-bin/ia32/7za.exe", "npm/7zip/7z.sfx"}) {
    std::string path = corpusDir() + "/" + rel;
    auto a = Analysis::open(path);
    ASSERT_TRUE(a) << path;
    (void)(*a)->functions();
    auto t0 = std::chrono::steady_clock::now();
    eh::EhModel m = eh::analyzeEh(**a);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    size_t fh3 = 0, fh4 = 0, errors = 0, tries = 0, catches = 0, actions = 0, outside = 0;
    for (const auto &f : m.functions) {
      if (!f.error.empty()) {
        ++errors;
        ADD_FAILURE() << path << ": " << std::hex << f.rva << ": " << f.error;
        continue;
      }
      (f.format == eh::EhFormat::FH4 ? fh4 : fh3)++;
      tries += f.tries.size();
      // Every funclet lies in a function (with .pdata on x64). Identical
      // funclets are folded by the linker and shared between functions, so it
      // need not be a fragment of this one.
      bool x64 = (*a)->image().is64();
      auto housed = [&](uint32_t rva, bool funclet) {
        const code::Function *h = (*a)->functionContaining(rva);
        return h && (!funclet || !x64 || !h->pdataEntries.empty());
      };
      for (const auto &t : f.tries)
        for (const auto &c : t.catches) {
          ++catches;
          if (!housed(c.handlerRva, true) && ++outside == 1)
            std::printf("[eh]   catch funclet %x of %x lies in no function\n", c.handlerRva, f.rva);
        }
      for (const auto &u : f.unwind)
        if (u.actionRva) {
          ++actions;
          // FH4 Dtor* entries name the destructor (any function); other
          // actions are funclets.
          if (!housed(u.actionRva, u.destructorRva != u.actionRva) && ++outside == 1)
            std::printf("[eh]   unwind action %x of %x lies in no function\n", u.actionRva, f.rva);
        }
    }
    size_t typed = 0, rethrows = 0;
    for (const auto &t : m.throws) {
      rethrows += t.rethrow;
      typed += !t.rethrow && !t.type.empty();
    }
    std::printf("[eh] %-48s FH3 %5zu FH4 %5zu tries %5zu catches %5zu unwind actions %6zu throws %4zu (%zu typed, "
                "%zu rethrows) funclets outside %zu  %.3f s\n",
                rel, fh3, fh4, tries, catches, actions, m.throws.size(), typed, rethrows, outside, secs);
    EXPECT_EQ(errors, 0u) << rel;
    EXPECT_EQ(outside, 0u) << rel;
    // hiddeninput.exe imports __CxxFrameHandler3 but has no try/catch of its own.
    if (std::string(rel) != "deb/simplesamlphp/hiddeninput.exe") {
      EXPECT_GT(fh3 + fh4, 0u) << rel;
    }
    // A ThrowInfo computed outside the call's block stays unresolved.
    EXPECT_GE(double(typed + rethrows), 0.95 * double(m.throws.size())) << rel << ": throw sites without a type";
  }
}

} // namespace
} // namespace sb::test
