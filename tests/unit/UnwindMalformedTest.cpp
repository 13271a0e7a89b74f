// Malformed unwind data, made by hand from a real fixture: every problem is a
// warning or an error on the link, never a crash or a loop.
#include "TestSupport.h"

#include "code/Decoder.h"   // internal
#include "switchboard/unwind/ExceptionDirectory.h"
#include "switchboard/unwind/Frame.h"

#include <gtest/gtest.h>

#include <cstring>

namespace sb::test {
namespace {

class BadUnwind : public ::testing::Test {
protected:
  void SetUp() override {
    bytes_ = readFile(fixturePath("x64", "unwind_app.exe"));
    ASSERT_FALSE(bytes_.empty());
    auto img = pe::PeImage::parse(bytes_);
    ASSERT_TRUE(img);
    orig_ = std::make_unique<pe::PeImage>(img.take());
    ASSERT_GE(orig_->runtimeFunctions().size(), 3u);
  }
  uint64_t off(uint32_t rva) { return *orig_->rvaToOffset(rva); }
  void put8(uint32_t rva, uint8_t v) { bytes_[off(rva)] = v; }
  void put32(uint32_t rva, uint32_t v) { std::memcpy(bytes_.data() + off(rva), &v, 4); }
  std::unique_ptr<pe::PeImage> reparse() {
    auto img = pe::PeImage::parse(bytes_);
    EXPECT_TRUE(img);
    return std::make_unique<pe::PeImage>(img.take());
  }
  bool warned(const unwind::UnwindInfo &u, const std::string &needle) {
    return std::any_of(u.warnings.begin(), u.warnings.end(),
                       [&](const std::string &w) { return w.find(needle) != std::string::npos; });
  }
  // Everything a command would do with every entry.
  void exercise(const pe::PeImage &img) {
    unwind::ExceptionDirectory dir(img);
    code::Decoder dec(true, img.imageBase());
    for (const auto &e : img.runtimeFunctions()) {
      (void)dir.chain(e);
      (void)unwind::computeFrame(dir, dec, e.begin);
      (void)unwind::checkProlog(dir, dec, e);
    }
  }
  std::vector<uint8_t> bytes_;
  std::unique_ptr<pe::PeImage> orig_;
};

TEST_F(BadUnwind, CodesPastTheEnd) {
  uint32_t u = orig_->runtimeFunctions()[0].unwindRva;
  put8(u + 2, 0xFF);   // 255 code slots
  auto img = reparse();
  auto info = unwind::decodeUnwindInfo(*img, u);
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->warnings.empty());
  exercise(*img);
}

TEST_F(BadUnwind, UnknownVersionAndOps) {
  uint32_t u = orig_->runtimeFunctions()[1].unwindRva;
  put8(u, uint8_t((bytes_[off(u)] & ~7) | 7));   // version 7
  put8(u + 5, 0x5F);                              // first code: op 15, info 5
  auto img = reparse();
  auto info = unwind::decodeUnwindInfo(*img, u);
  ASSERT_TRUE(info);
  EXPECT_TRUE(warned(*info, "unknown UNWIND_INFO version 7"));
  EXPECT_TRUE(warned(*info, "unknown unwind op 15"));
  exercise(*img);
}

TEST_F(BadUnwind, AllocLargeWithBadInfo) {
  uint32_t u = orig_->runtimeFunctions()[0].unwindRva;
  put8(u + 5, 0x71);   // first code: ALLOC_LARGE with op info 7
  auto img = reparse();
  auto info = unwind::decodeUnwindInfo(*img, u);
  ASSERT_TRUE(info);
  EXPECT_TRUE(warned(*info, "UWOP_ALLOC_LARGE with op info 7"));
  exercise(*img);
}

TEST_F(BadUnwind, ChainThatLoops) {
  // Make entry 0's unwind info chain to itself.
  const auto &e = orig_->runtimeFunctions()[0];
  uint32_t u = e.unwindRva;
  put8(u, uint8_t((bytes_[off(u)] & 7) | (4 << 3)));   // UNW_FLAG_CHAININFO
  put8(u + 2, 0);                                      // no codes: the chained entry follows the header
  put32(u + 4, e.begin);
  put32(u + 8, e.end);
  put32(u + 12, u);
  auto img = reparse();
  unwind::ExceptionDirectory dir(*img);
  auto chain = dir.chain(img->runtimeFunctions()[0]);
  ASSERT_FALSE(chain.empty());
  EXPECT_LE(chain.size(), 33u);
  EXPECT_NE(chain.back().error.find("loops"), std::string::npos) << chain.back().error;
  exercise(*img);
}

TEST_F(BadUnwind, IndirectEntryOutsideTheImage) {
  uint32_t pd = orig_->headers().directories[pe::kDirException].rva;
  put32(pd + 8, 0x7FFFFFF1);   // entry 0: indirect reference far outside
  auto img = reparse();
  unwind::ExceptionDirectory dir(*img);
  auto chain = dir.chain(img->runtimeFunctions()[0]);
  ASSERT_FALSE(chain.empty());
  EXPECT_TRUE(chain.front().indirect);
  EXPECT_FALSE(chain.back().error.empty());
  exercise(*img);
}

TEST_F(BadUnwind, UnwindInfoOutsideTheImage) {
  uint32_t pd = orig_->headers().directories[pe::kDirException].rva;
  put32(pd + 8, 0x7FFFFFF0);
  auto img = reparse();
  EXPECT_FALSE(unwind::decodeUnwindInfo(*img, 0x7FFFFFF0));
  exercise(*img);
}

} // namespace
} // namespace sb::test
