// Jump tables in the fixtures, against the PDB: classify() in gui_app is a
// dense 9-case switch.
#include "PdbTruth.h"
#include "TestSupport.h"

#include <gtest/gtest.h>

namespace sb::test {
namespace {
TEST(JumpTable, DenseSwitchRecovered) {
  for (const char *arch : {"x64", "x86"}) {
    auto a = Analysis::open(fixturePath(arch, "gui_app.exe"));
    ASSERT_TRUE(a) << a.error();
    std::string err;
    auto truth = readPdbTruth(fixturePath(arch, "gui_app.pdb"), err);
    ASSERT_TRUE(truth) << err;
    const PdbProc *classify = truth->proc("classify");
    ASSERT_TRUE(classify);
    const code::Function *f = (*a)->functionAt(classify->rva);
    ASSERT_TRUE(f) << arch;
    ASSERT_EQ(f->jumpTables.size(), 1u) << arch;
    const code::JumpTable &jt = f->jumpTables[0];
    EXPECT_TRUE(jt.boundKnown) << arch;
    EXPECT_EQ(jt.targets.size(), 9u) << arch;
    EXPECT_EQ(jt.kind, std::string(arch) == "x64" ? code::JumpTableKind::TableRelative : code::JumpTableKind::Absolute);
    for (uint32_t t : jt.targets) {
      EXPECT_GE(t, classify->rva);
      EXPECT_LT(t, classify->rva + classify->size);
      // Every case is a block of the function.
      EXPECT_TRUE(std::any_of(f->blocks.begin(), f->blocks.end(), [&](const code::BasicBlock &b) { return b.rva == t; }));
    }
  }
}
} // namespace
} // namespace sb::test
