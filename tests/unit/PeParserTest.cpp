// Hand-made malformed inputs: each corrupts one structure of a real fixture
// and checks that the parser says what is wrong and keeps the rest.
#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace sb::test {
namespace {

bool hasWarning(const pe::PeImage &img, const std::string &needle) {
  return std::any_of(img.warnings().begin(), img.warnings().end(),
                     [&](const std::string &w) { return w.find(needle) != std::string::npos; });
}

class Corrupt : public ::testing::Test {
protected:
  void load(const std::string &arch, const std::string &file) {
    bytes_ = readFile(fixturePath(arch, file));
    ASSERT_FALSE(bytes_.empty());
    auto img = pe::PeImage::parse(bytes_);
    ASSERT_TRUE(img);
    ASSERT_TRUE(img->warnings().empty());
    orig_ = std::make_unique<pe::PeImage>(img.take());
  }
  void put32(uint64_t off, uint32_t v) { std::memcpy(bytes_.data() + off, &v, 4); }
  void put16(uint64_t off, uint16_t v) { std::memcpy(bytes_.data() + off, &v, 2); }
  uint64_t fileOffset(uint32_t rva) { return *orig_->rvaToOffset(rva); }
  uint64_t dirEntryOffset(unsigned i) {
    const auto &h = orig_->headers();
    return h.ntOffset + 24 + (h.is64 ? 112 : 96) + 8 * i;
  }
  pe::PeImage reparse() {
    auto img = pe::PeImage::parse(bytes_);
    EXPECT_TRUE(img) << img.error();
    return img.take();
  }
  std::vector<uint8_t> bytes_;
  std::unique_ptr<pe::PeImage> orig_;
};

TEST(PeParser, NotAPeGivesClearErrors) {
  std::vector<std::pair<std::vector<uint8_t>, std::string>> cases = {
      {{}, "no MZ"},
      {{'M', 'Z'}, "truncated DOS header"},
      {std::vector<uint8_t>(0x40, 0), "no MZ"},
  };
  std::vector<uint8_t> badLfanew(0x40, 0);
  badLfanew[0] = 'M', badLfanew[1] = 'Z', badLfanew[0x3c] = 0xff, badLfanew[0x3f] = 0x7f;
  cases.push_back({badLfanew, "no PE signature"});
  for (auto &[bytes, msg] : cases) {
    auto img = pe::PeImage::parse(bytes);
    ASSERT_FALSE(img);
    EXPECT_NE(img.error().find(msg), std::string::npos) << img.error();
  }
}

TEST_F(Corrupt, HugeSectionCount) {
  load("x64", "plugin.dll");
  put16(orig_->headers().ntOffset + 6, 0xFFFF);
  auto img = reparse();
  EXPECT_TRUE(hasWarning(img, "section table truncated") || hasWarning(img, "overlap") ||
              hasWarning(img, "past the end"));
}

TEST_F(Corrupt, HugeDirectoryCount) {
  load("x64", "plugin.dll");
  const auto &h = orig_->headers();
  put32(h.ntOffset + 24 + 108, 0xFFFFFFFF);
  auto img = reparse();
  EXPECT_TRUE(hasWarning(img, "NumberOfRvaAndSizes"));
  EXPECT_EQ(img.exports().exports.size(), orig_->exports().exports.size());
}

TEST_F(Corrupt, ExportCountsBeyondTheFile) {
  load("x86", "plugin.dll");
  uint32_t ed = orig_->headers().directories[pe::kDirExport].rva;
  put32(fileOffset(ed) + 20, 0x7FFFFFFF);
  put32(fileOffset(ed) + 24, 0x7FFFFFFF);
  auto img = reparse();
  EXPECT_TRUE(hasWarning(img, "claims"));
  EXPECT_FALSE(img.delayImports().empty());   // the rest is intact
}

TEST_F(Corrupt, ImportNameOutsideTheImage) {
  load("x64", "gui_app.exe");
  uint32_t id = orig_->headers().directories[pe::kDirImport].rva;
  put32(fileOffset(id) + 12, 0x7FFFFFF0);   // first descriptor's DLL name
  auto img = reparse();
  EXPECT_TRUE(hasWarning(img, "DLL name"));
  EXPECT_LT(img.imports().size(), orig_->imports().size());
  EXPECT_FALSE(img.imports().empty());
}

TEST_F(Corrupt, RelocationBlockSize) {
  load("x86", "plugin.dll");
  uint32_t rd = orig_->headers().directories[pe::kDirBaseReloc].rva;
  put32(fileOffset(rd) + 4, 2);
  auto img = reparse();
  EXPECT_TRUE(hasWarning(img, "invalid size"));
  EXPECT_TRUE(img.relocations().empty());
}

TEST_F(Corrupt, ResourceTreeCycle) {
  load("x86", "gui_app.exe");
  uint32_t rd = orig_->headers().directories[pe::kDirResource].rva;
  put32(fileOffset(rd) + 16 + 4, 0x80000000u);   // first type entry -> the root itself
  auto img = reparse();
  EXPECT_TRUE(hasWarning(img, "referenced twice"));
}

TEST_F(Corrupt, UnwindChainCycle) {
  load("x64", "shapes.exe");
  const auto &rf = orig_->runtimeFunctions();
  ASSERT_GE(rf.size(), 2u);
  uint32_t pd = orig_->headers().directories[pe::kDirException].rva;
  // Two indirect entries that point at each other.
  put32(fileOffset(pd) + 8, (pd + 12) | 1);
  put32(fileOffset(pd) + 12 + 8, pd | 1);
  auto img = reparse();
  EXPECT_TRUE(hasWarning(img, "chains loop"));
  EXPECT_EQ(img.runtimeFunctions().size(), rf.size());
}

TEST_F(Corrupt, TlsCallbacksOutsideTheImage) {
  load("x86", "plugin.dll");
  uint32_t td = orig_->headers().directories[pe::kDirTls].rva;
  put32(fileOffset(td) + 12, 0x10);   // AddressOfCallBacks below the image base
  auto img = reparse();
  EXPECT_TRUE(hasWarning(img, "TLS callback array"));
  ASSERT_TRUE(img.tls());
  EXPECT_TRUE(img.tls()->callbackRvas.empty());
}

TEST_F(Corrupt, TruncatedEverywhere) {
  load("x64", "shapes.exe");
  std::vector<uint8_t> full = bytes_;
  for (size_t n = 0; n < full.size(); n += 97) {
    std::vector<uint8_t> cut(full.begin(), full.begin() + n);
    auto img = pe::PeImage::parse(cut);
    if (!img) {
      EXPECT_FALSE(img.error().empty());
      continue;
    }
    // A partial model: whatever is cut off is reported.
    if (n > 0x400 && n < full.size() - 0x200) {
      EXPECT_FALSE(img->warnings().empty()) << "cut at " << n;
    }
  }
}

// PeImage seen as an image::Image: its sections as neutral ranges, the same
// after the image is copied or moved (Analysis owns it by value).
TEST(PeImageAsImage, MappedSectionsFollowTheSectionTable) {
  auto parsed = pe::PeImage::parse(readFile(fixturePath("x64", "shapes.exe")));
  ASSERT_TRUE(parsed) << parsed.error();
  pe::PeImage copy = *parsed;
  pe::PeImage moved = parsed.take();
  for (const pe::PeImage *pe : {&copy, &moved}) {
    const image::Image &img = *pe;
    EXPECT_EQ(img.architecture(), image::Architecture::X64);
    EXPECT_EQ(img.pointerSize(), 8u);
    EXPECT_EQ(img.imageBase(), pe->headers().imageBase);
    EXPECT_EQ(img.imageSize(), pe->headers().sizeOfImage);
    EXPECT_EQ(img.entryPoint(), pe->headers().entryPointRva);
    ASSERT_EQ(img.mappedSections().size(), pe->sections().size());
    for (size_t i = 0; i < pe->sections().size(); ++i) {
      const pe::Section &s = pe->sections()[i];
      const image::Section &m = img.mappedSections()[i];
      EXPECT_EQ(m.name, s.name);
      EXPECT_EQ(m.rva, s.rva);
      EXPECT_EQ(m.size, s.mappedSize());
      EXPECT_EQ(m.executable, s.executable());
      EXPECT_EQ(m.code, s.hasCode());
      EXPECT_EQ(m.writable, s.writable());
      EXPECT_EQ(m.readable, s.readable());
      if (!s.mappedSize())
        continue;
      EXPECT_EQ(img.sectionFor(s.rva), &m);
      EXPECT_EQ(img.sectionFor(s.rva + s.mappedSize() - 1), &m);
      EXPECT_EQ(img.isExecutableRva(s.rva), s.executable() || s.hasCode());
    }
    EXPECT_FALSE(img.sectionFor(pe->headers().sizeOfImage + 0x1000));
    EXPECT_TRUE(img.isMappedRva(0));   // the headers
    EXPECT_EQ(img.readRva<uint16_t>(0), uint16_t(0x5A4D));   // "MZ"
  }
}
} // namespace
} // namespace sb::test
