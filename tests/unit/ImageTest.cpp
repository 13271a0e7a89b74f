// image::Image as the analyses see it, implemented by a few pages built in
// memory (the shape a PE mapped from a process dump will have): the analyses
// that only need Image run on it, and reads past what is mapped fail.
#include "switchboard/code/Disassembly.h"
#include "switchboard/code/Thunks.h"
#include "switchboard/cxx/Rtti.h"
#include "switchboard/eh/FuncInfo.h"
#include "switchboard/image/Image.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

namespace sb {
namespace {

// Pages of memory at RVAs; a page's bytes may be shorter than its size (the
// rest reads as zero, with no backing bytes).
class MemoryImage final : public image::Image {
public:
  MemoryImage(image::Architecture arch, uint64_t base) : arch_(arch), base_(base) {}

  void addPage(image::Section s, std::vector<uint8_t> bytes) {
    sections_.push_back(std::move(s));
    bytes_.push_back(std::move(bytes));
  }
  std::vector<uint8_t> &bytesOf(size_t page) { return bytes_[page]; }

  image::Architecture architecture() const override { return arch_; }
  unsigned pointerSize() const override { return arch_ == image::Architecture::X86 ? 4 : 8; }
  uint64_t imageBase() const override { return base_; }
  uint32_t imageSize() const override {
    uint32_t end = 0;
    for (const image::Section &s : sections_)
      end = std::max(end, s.rva + s.size);
    return end;
  }
  std::optional<uint32_t> entryPoint() const override { return std::nullopt; }
  const std::vector<std::string> &warnings() const override { return warnings_; }
  std::span<const image::Section> mappedSections() const override { return sections_; }
  const image::Section *sectionFor(uint32_t rva) const override {
    size_t i = index(rva);
    return i < sections_.size() ? &sections_[i] : nullptr;
  }
  bool isMappedRva(uint32_t rva) const override { return sectionFor(rva) != nullptr; }
  std::span<const uint8_t> bytesFromRva(uint32_t rva) const override {
    size_t i = index(rva);
    if (i >= sections_.size() || rva - sections_[i].rva >= bytes_[i].size())
      return {};
    return std::span<const uint8_t>(bytes_[i]).subspan(rva - sections_[i].rva);
  }
  bool copyFromRva(uint32_t rva, void *out, size_t length) const override {
    size_t i = index(rva);
    if (i >= sections_.size())
      return false;
    uint64_t delta = rva - sections_[i].rva;
    if (delta + length > sections_[i].size)
      return false;
    std::memset(out, 0, length);
    if (delta < bytes_[i].size())
      std::memcpy(out, bytes_[i].data() + delta, std::min<uint64_t>(length, bytes_[i].size() - delta));
    return true;
  }
  bool mayHoldAddress(uint32_t) const override { return true; }   // no relocation knowledge
  bool isImportSlot(uint32_t) const override { return false; }

private:
  size_t index(uint32_t rva) const {
    for (size_t i = 0; i < sections_.size(); ++i)
      if (sections_[i].contains(rva))
        return i;
    return sections_.size();
  }
  image::Architecture arch_;
  uint64_t base_;
  std::vector<image::Section> sections_;
  std::vector<std::vector<uint8_t>> bytes_;
  std::vector<std::string> warnings_;
};

constexpr uint64_t kBase = 0x140000000ull;

// An x64 image: code at 0x1000 (one page, full), read-only data at 0x2000
// (one page, 0x100 bytes backed, the rest zero fill).
MemoryImage x64Image() {
  MemoryImage img(image::Architecture::X64, kBase);
  std::vector<uint8_t> code(0x1000, 0xCC);
  const uint8_t text[] = {
      0x48, 0x8D, 0x0D, 0xF9, 0x0F, 0x00, 0x00,   // 1000: lea rcx, [rip+0xff9]  (0x2000)
      0xE8, 0x01, 0x00, 0x00, 0x00,               // 1007: call 0x100d
      0xC3,                                       // 100c: ret
      0xC3,                                       // 100d: ret
  };
  std::memcpy(code.data(), text, sizeof text);
  code[0xFFF] = 0xE8;                             // 1fff: a call cut off by the end of the page
  img.addPage({".text", 0x1000, 0x1000, true, false, true, true}, std::move(code));

  std::vector<uint8_t> data(0x100, 0);
  // 2000: a TypeDescriptor (vftable pointer, spare, decorated name).
  const uint64_t vftable = kBase + 0x2080;
  std::memcpy(data.data(), &vftable, 8);
  const char name[] = ".?AVShape@@";
  std::memcpy(data.data() + 16, name, sizeof name);
  // 2040: a pointer to the code; 2048: an image-relative RVA.
  const uint64_t ptr = kBase + 0x1000;
  std::memcpy(data.data() + 0x40, &ptr, 8);
  const uint32_t rel = 0x100d;
  std::memcpy(data.data() + 0x48, &rel, 4);
  // 20f8..20ff: a string the backed bytes end before its NUL.
  std::memcpy(data.data() + 0xF8, "unending", 8);
  img.addPage({".rdata", 0x2000, 0x1000, true, false, false, false}, std::move(data));
  return img;
}

TEST(Image, DescribesItself) {
  MemoryImage img = x64Image();
  EXPECT_STREQ(image::architectureName(img.architecture()), "x64");
  EXPECT_STREQ(image::architectureName(image::Architecture::Arm64), "arm64");
  EXPECT_STREQ(image::architectureName(image::Architecture::Other), "other");
  EXPECT_TRUE(img.is64());
  EXPECT_TRUE(img.codeAnalysisSupported());
  EXPECT_EQ(img.imageSize(), 0x3000u);
  EXPECT_EQ(img.rvaToVa(0x1000), kBase + 0x1000);
  EXPECT_EQ(img.vaToRva(kBase + 0x2040), 0x2040u);
  EXPECT_FALSE(img.vaToRva(kBase - 1));
  EXPECT_FALSE(img.vaToRva(kBase + 0x100000000ull));
  ASSERT_EQ(img.mappedSections().size(), 2u);
  EXPECT_EQ(img.sectionFor(0x1fff)->name, ".text");
  EXPECT_TRUE(img.isExecutableRva(0x1000));
  EXPECT_FALSE(img.isExecutableRva(0x2000));
  EXPECT_FALSE(img.isExecutableRva(0x3000));
  EXPECT_FALSE(img.sectionFor(0x3000));
  EXPECT_FALSE(MemoryImage(image::Architecture::Arm64, 0).codeAnalysisSupported());
}

TEST(Image, ReadsInsideAndFailsPastTheEnd) {
  MemoryImage img = x64Image();
  EXPECT_EQ(img.readPointer(0x2040), kBase + 0x1000);
  EXPECT_EQ(img.readRva<uint32_t>(0x2048), 0x100du);
  EXPECT_EQ(img.cstringAtRva(0x2010), ".?AVShape@@");
  // Zero fill reads as zero but has no bytes to hand out.
  EXPECT_EQ(img.readRva<uint64_t>(0x2800), 0u);
  EXPECT_TRUE(img.bytesFromRva(0x2800).empty());
  EXPECT_EQ(img.bytesFromRva(0x20f8).size(), 8u);
  // A string whose NUL lies past the backed bytes, or past the limit.
  EXPECT_FALSE(img.cstringAtRva(0x20f8));
  EXPECT_FALSE(img.cstringAtRva(0x2010, 4));
  // Reads that cross the end of the mapping, or start outside it.
  EXPECT_EQ(img.readRva<uint32_t>(0x2ffc), 0u);
  EXPECT_FALSE(img.readRva<uint32_t>(0x2ffd));
  EXPECT_FALSE(img.readRva<uint64_t>(0x2ffc));
  EXPECT_FALSE(img.readPointer(0x3000));
  EXPECT_FALSE(img.readRva<uint8_t>(0x0));
  EXPECT_FALSE(img.readRva<uint8_t>(0xFFFFFFFFu));
  EXPECT_TRUE(img.bytesFromRva(0xFFFFFFFFu).empty());
  EXPECT_FALSE(img.cstringAtRva(0x3000));
  uint8_t buf[16];
  EXPECT_FALSE(img.copyFromRva(0x1ff8, buf, sizeof buf));   // crosses from .text into .rdata
  EXPECT_FALSE(img.copyFromRva(0xFFFFFFF0u, buf, sizeof buf));
}

TEST(Image, DisassemblesFromAnImageInMemory) {
  MemoryImage img = x64Image();
  code::Disassembler dis(img);
  auto run = dis.run(0x1000, 4);
  ASSERT_EQ(run.size(), 4u);
  EXPECT_EQ(run[0].text.rfind("lea rcx", 0), 0u) << run[0].text;
  EXPECT_NE(std::find(run[0].references.begin(), run[0].references.end(), kBase + 0x2000), run[0].references.end())
      << run[0].text;
  EXPECT_EQ(run[1].flow, code::Flow::Call);
  EXPECT_EQ(run[1].target, 0x100du);
  EXPECT_EQ(run[2].flow, code::Flow::Return);
  EXPECT_EQ(run[3].rva, 0x100du);
  // The call cut off by the end of the page does not decode; nothing outside does.
  EXPECT_FALSE(dis.at(0x1fff));
  EXPECT_FALSE(dis.at(0x2800));
  EXPECT_FALSE(dis.at(0x3000));
  EXPECT_EQ(dis.run(0x1ffe, 8).size(), 1u);   // int3, then the cut-off call
}

TEST(Image, ReadsRttiAndEhPointersFromAnImageInMemory) {
  MemoryImage img = x64Image();
  auto td = cxx::readTypeDescriptor(img, 0x2000);
  ASSERT_TRUE(td) << td.error();
  EXPECT_EQ(td->rawName, ".?AVShape@@");
  EXPECT_EQ(td->name, "Shape");
  EXPECT_EQ(cxx::typeDescriptorName(img, 0x2000), "Shape");
  EXPECT_FALSE(cxx::readTypeDescriptor(img, 0x20e8));   // its name would be the unterminated string
  EXPECT_FALSE(cxx::readTypeDescriptor(img, 0x2ff8));
  EXPECT_EQ(cxx::typeDescriptorName(img, 0x3000), "type@3000");
  // x64 EH pointers are image-relative dwords.
  EXPECT_EQ(eh::readEhPointer(img, 0x2048), 0x100du);
  EXPECT_FALSE(eh::readEhPointer(img, 0x2ffe));
}

TEST(Image, X86CodeShapes) {
  MemoryImage img(image::Architecture::X86, 0x400000);
  img.addPage({".text", 0x1000, 0x1000, true, false, true, true},
              {0x8B, 0xFF, 0x55, 0x8B, 0xEC, 0x5D, 0xC3, 0x55});   // mov edi,edi; push ebp; mov ebp,esp; pop ebp; ret; push ebp
  EXPECT_FALSE(img.is64());
  EXPECT_EQ(img.readPointer(0x1000), 0x8B55FF8Bu);
  EXPECT_TRUE(code::buildsX86Frame(img, 0x1000));
  EXPECT_TRUE(code::buildsX86Frame(img, 0x1002));
  EXPECT_FALSE(code::buildsX86Frame(img, 0x1007));   // the page's bytes end after the push
  code::Disassembler dis(img);
  auto run = dis.run(0x1000, 16);
  ASSERT_EQ(run.size(), 6u);   // the last push decodes; the zero fill after it has no bytes
  EXPECT_EQ(run[4].flow, code::Flow::Return);
  EXPECT_FALSE(dis.at(0x1008));
}

} // namespace
} // namespace sb
