// The minidump streams Wine's dbghelp does not write (thread info, handle
// data, thread names, memory info, Memory64List), read from a dump built
// here byte by byte; and damaged counts cut to what the streams hold.
#include "switchboard/dump/Minidump.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace sb {
namespace {

class DumpBuilder {
public:
  DumpBuilder() { bytes_.resize(32); }   // the header, written last

  // Appends a stream; its directory entry is written by finish().
  void stream(uint32_t type, const std::vector<uint8_t> &data) {
    align();
    streams_.push_back({type, uint32_t(data.size()), uint32_t(bytes_.size())});
    bytes_.insert(bytes_.end(), data.begin(), data.end());
  }
  uint32_t string(const std::u16string &s) {
    align();
    const uint32_t at = uint32_t(bytes_.size());
    put32(bytes_, uint32_t(s.size() * 2));
    for (char16_t c : s)
      bytes_.push_back(uint8_t(c)), bytes_.push_back(uint8_t(c >> 8));
    bytes_.push_back(0), bytes_.push_back(0);
    return at;
  }
  uint32_t blob(const std::vector<uint8_t> &data) {
    align();
    const uint32_t at = uint32_t(bytes_.size());
    bytes_.insert(bytes_.end(), data.begin(), data.end());
    return at;
  }
  std::vector<uint8_t> finish() {
    align();
    const uint32_t dir = uint32_t(bytes_.size());
    for (const Entry &e : streams_)
      put32(bytes_, e.type), put32(bytes_, e.size), put32(bytes_, e.rva);
    std::vector<uint8_t> h;
    put32(h, 0x504d444d), put32(h, 0xa793), put32(h, uint32_t(streams_.size())), put32(h, dir);
    h.resize(32, 0);
    std::memcpy(bytes_.data(), h.data(), 32);
    return bytes_;
  }
  static void put32(std::vector<uint8_t> &b, uint32_t v) {
    for (int i = 0; i < 4; ++i)
      b.push_back(uint8_t(v >> (8 * i)));
  }
  static void put64(std::vector<uint8_t> &b, uint64_t v) { put32(b, uint32_t(v)), put32(b, uint32_t(v >> 32)); }

private:
  struct Entry {
    uint32_t type, size, rva;
  };
  void align() {
    while (bytes_.size() % 8)
      bytes_.push_back(0);
  }
  std::vector<uint8_t> bytes_;
  std::vector<Entry> streams_;
};

std::vector<uint8_t> systemInfoX64() {
  std::vector<uint8_t> s(56, 0);
  s[0] = 9;   // PROCESSOR_ARCHITECTURE_AMD64
  return s;
}

TEST(Minidump, StreamsOfOurOwnReaders) {
  DumpBuilder b;
  b.stream(7, systemInfoX64());
  // The thread list: one thread (id 0x44) with an x64 context.
  std::vector<uint8_t> ctx(0x4D0, 0);
  ctx[0xF8] = 0x10, ctx[0xF9] = 0x20;   // Rip = 0x2010
  const uint32_t ctxAt = b.blob(ctx);
  std::vector<uint8_t> threads;
  DumpBuilder::put32(threads, 1);
  DumpBuilder::put32(threads, 0x44), DumpBuilder::put32(threads, 0), DumpBuilder::put32(threads, 0);
  DumpBuilder::put32(threads, 0), DumpBuilder::put64(threads, 0x7000);
  DumpBuilder::put64(threads, 0), DumpBuilder::put32(threads, 0), DumpBuilder::put32(threads, 0);
  DumpBuilder::put32(threads, 0x4D0), DumpBuilder::put32(threads, ctxAt);
  b.stream(3, threads);
  // Thread info list: header 12, entry 64.
  std::vector<uint8_t> info;
  DumpBuilder::put32(info, 12), DumpBuilder::put32(info, 64), DumpBuilder::put32(info, 1);
  std::vector<uint8_t> entry(64, 0);
  entry[0] = 0x44;
  entry[48] = 0x34, entry[49] = 0x12;   // StartAddress 0x1234
  info.insert(info.end(), entry.begin(), entry.end());
  b.stream(17, info);
  // Thread names: one, then a second claimed that does not fit.
  const uint32_t name = b.string(u"worker \u00e9");
  std::vector<uint8_t> names;
  DumpBuilder::put32(names, 2), DumpBuilder::put32(names, 0x44), DumpBuilder::put64(names, name);
  b.stream(24, names);
  // Handle data: header 16, descriptor 32.
  const uint32_t type = b.string(u"Event"), object = b.string(u"\\BaseNamedObjects\\ready");
  std::vector<uint8_t> handles;
  DumpBuilder::put32(handles, 16), DumpBuilder::put32(handles, 32), DumpBuilder::put32(handles, 1);
  DumpBuilder::put32(handles, 0);
  DumpBuilder::put64(handles, 0x58), DumpBuilder::put32(handles, type), DumpBuilder::put32(handles, object);
  DumpBuilder::put32(handles, 0), DumpBuilder::put32(handles, 0x1F0003), DumpBuilder::put32(handles, 2);
  DumpBuilder::put32(handles, 3);
  b.stream(12, handles);
  // Memory64List: one range of 16 bytes.
  const uint32_t data = b.blob({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
  std::vector<uint8_t> mem;
  DumpBuilder::put64(mem, 1), DumpBuilder::put64(mem, data), DumpBuilder::put64(mem, 0x9000);
  DumpBuilder::put64(mem, 16);
  b.stream(9, mem);

  auto d = dump::Minidump::parse(b.finish());
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(d->arch(), dump::Arch::X64);
  ASSERT_EQ(d->threads().size(), 1u);
  const dump::ThreadRecord &t = d->threads()[0];
  EXPECT_EQ(t.id, 0x44u);
  EXPECT_EQ(t.context.pc, 0x2010u);
  EXPECT_EQ(t.name, "worker \xc3\xa9");
  EXPECT_EQ(t.startAddress, 0x1234u);
  ASSERT_EQ(d->handles().size(), 1u);
  EXPECT_EQ(d->handles()[0].handle, 0x58u);
  EXPECT_EQ(d->handles()[0].typeName, "Event");
  EXPECT_EQ(d->handles()[0].objectName, "\\BaseNamedObjects\\ready");
  EXPECT_EQ(d->handles()[0].grantedAccess, 0x1F0003u);
  EXPECT_TRUE(d->fullMemory());
  uint32_t word = 0;
  ASSERT_TRUE(d->read(0x9004, &word, 4));
  EXPECT_EQ(word, 0x08070605u);
  EXPECT_FALSE(d->read(0x900E, &word, 4));   // runs past the range
  bool cut = false;
  for (const std::string &w : d->warnings())
    cut |= w.find("thread names: 2 entries claimed, 1 fit") != std::string::npos;
  EXPECT_TRUE(cut);
}

TEST(Minidump, NotAMinidump) {
  auto d = dump::Minidump::parse(std::vector<uint8_t>(64, 0x41));
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().find("not a readable minidump"), std::string::npos);
}

} // namespace
} // namespace sb
