#include "dump/Streams.h"

#include "switchboard/support/ByteReader.h"

#include <algorithm>
#include <fmt/format.h>

namespace sb::dump {
namespace {

// A stream's claimed entry count, cut to what its bytes hold.
uint64_t entriesThatFit(uint64_t claimed, uint64_t available, uint64_t entrySize, const char *what,
                        std::vector<std::string> &warnings) {
  const uint64_t fit = entrySize ? available / entrySize : 0;
  if (claimed <= fit)
    return claimed;
  warnings.push_back(fmt::format("{}: {} entries claimed, {} fit in the stream", what, claimed, fit));
  return fit;
}

// The header of the table streams (memory info, handle data, thread info):
// SizeOfHeader, SizeOfEntry, then the entry count (32 or 64 bits); the
// offsets of the entries that fit in the stream.
std::vector<uint64_t> tableEntries(std::span<const uint8_t> stream, bool count64, uint32_t minHeader,
                                   uint32_t minEntry, const char *what, std::vector<std::string> &warnings) {
  ByteReader r(stream);
  auto header = r.u32(0), entry = r.u32(4);
  std::optional<uint64_t> count = r.u64(8);
  if (!count64)
    if (auto c32 = r.u32(8))
      count = *c32;
  if (!header || !entry || !count || *header < minHeader || *entry < minEntry || *header > stream.size()) {
    warnings.push_back(fmt::format("{}: its header is damaged", what));
    return {};
  }
  const uint64_t n = entriesThatFit(*count, stream.size() - *header, *entry, what, warnings);
  std::vector<uint64_t> at;
  at.reserve(n);
  for (uint64_t i = 0; i < n; ++i)
    at.push_back(*header + i * *entry);
  return at;
}

void appendUtf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | cp >> 6), out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | cp >> 12), out += char(0x80 | (cp >> 6 & 0x3F)), out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | cp >> 18), out += char(0x80 | (cp >> 12 & 0x3F)), out += char(0x80 | (cp >> 6 & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

} // namespace

std::optional<std::string> StreamReader::string(uint64_t offset) const {
  ByteReader r(file_);
  auto length = r.u32(offset);
  if (!length || *length % 2 || !r.has(offset + 4, *length))
    return std::nullopt;
  std::string out;
  for (uint64_t i = 0; i < *length; i += 2) {
    uint32_t unit = *r.u16(offset + 4 + i);
    if (unit >= 0xD800 && unit < 0xDC00 && i + 2 < *length) {
      const uint32_t low = *r.u16(offset + 6 + i);
      if (low >= 0xDC00 && low < 0xE000) {
        unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
        i += 2;
      }
    }
    appendUtf8(out, unit);
  }
  return out;
}

std::vector<MemoryRange> StreamReader::memory64(std::span<const uint8_t> stream) {
  ByteReader r(stream);
  auto count = r.u64(0), base = r.u64(8);
  if (!count || !base) {
    warn("memory64 list: its header is truncated");
    return {};
  }
  const uint64_t n = entriesThatFit(*count, stream.size() - 16, 16, "memory64 list", warnings_);
  std::vector<MemoryRange> out;
  uint64_t offset = *base;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t address = *r.u64(16 + 16 * i), size = *r.u64(24 + 16 * i);
    if (offset > file_.size() || size > file_.size() - offset) {
      warn(fmt::format("memory64 list: range {:#x} ({} bytes) lies outside the file; the rest is dropped", address,
                       size));
      break;
    }
    out.push_back({address, size, offset, true});
    offset += size;
  }
  return out;
}

std::vector<RegionInfo> StreamReader::memoryInfo(std::span<const uint8_t> stream) {
  ByteReader r(stream);
  std::vector<RegionInfo> out;
  for (uint64_t at : tableEntries(stream, true, 16, 48, "memory info list", warnings_)) {
    RegionInfo info;
    info.base = *r.u64(at);
    info.allocationBase = *r.u64(at + 8);
    info.allocationProtect = *r.u32(at + 16);
    info.size = *r.u64(at + 24);
    info.state = *r.u32(at + 32);
    info.protect = *r.u32(at + 36);
    info.type = *r.u32(at + 40);
    out.push_back(info);
  }
  return out;
}

std::vector<HandleRecord> StreamReader::handles(std::span<const uint8_t> stream) {
  ByteReader r(stream);
  std::vector<HandleRecord> out;
  for (uint64_t at : tableEntries(stream, false, 16, 32, "handle data", warnings_)) {
    HandleRecord h;
    h.handle = *r.u64(at);
    if (uint32_t rva = *r.u32(at + 8))
      h.typeName = string(rva).value_or("");
    if (uint32_t rva = *r.u32(at + 12))
      h.objectName = string(rva).value_or("");
    h.attributes = *r.u32(at + 16);
    h.grantedAccess = *r.u32(at + 20);
    h.handleCount = *r.u32(at + 24);
    h.pointerCount = *r.u32(at + 28);
    out.push_back(std::move(h));
  }
  return out;
}

std::vector<ThreadInfo> StreamReader::threadInfo(std::span<const uint8_t> stream) {
  ByteReader r(stream);
  std::vector<ThreadInfo> out;
  for (uint64_t at : tableEntries(stream, false, 12, 64, "thread info list", warnings_))
    out.push_back({*r.u32(at), *r.u64(at + 48)});   // ThreadId ... StartAddress
  return out;
}

std::vector<std::pair<uint32_t, std::string>> StreamReader::threadNames(std::span<const uint8_t> stream) {
  ByteReader r(stream);
  auto count = r.u32(0);
  if (!count) {
    warn("thread names: the stream is truncated");
    return {};
  }
  const uint64_t n = entriesThatFit(*count, stream.size() - 4, 12, "thread names", warnings_);
  std::vector<std::pair<uint32_t, std::string>> out;
  for (uint64_t i = 0; i < n; ++i) {
    const uint32_t id = *r.u32(4 + 12 * i);
    if (auto name = string(*r.u64(8 + 12 * i)))
      out.emplace_back(id, std::move(*name));
    else
      warn(fmt::format("thread names: the name of thread {:#x} lies outside the file", id));
  }
  return out;
}

std::vector<MemoryRange> disjointRanges(std::vector<MemoryRange> ranges, std::vector<std::string> &warnings) {
  std::stable_sort(ranges.begin(), ranges.end(),
                   [](const MemoryRange &a, const MemoryRange &b) { return a.address < b.address; });
  std::vector<MemoryRange> out;
  out.reserve(ranges.size());
  size_t dropped = 0;
  for (const MemoryRange &m : ranges) {
    if (m.size == 0)
      continue;   // nothing to read (Wine writes some)
    if (m.address + m.size < m.address) {
      ++dropped;
      continue;
    }
    if (!out.empty() && m.address < out.back().address + out.back().size) {
      ++dropped;
      continue;
    }
    out.push_back(m);
  }
  if (dropped)
    warnings.push_back(fmt::format("memory: {} ranges wrapping the address space or overlapping another were dropped", dropped));
  return out;
}

std::optional<CodeViewRecord> parseCodeView(std::span<const uint8_t> record) {
  ByteReader r(record);
  if (r.u32(0) != 0x53445352u || record.size() < 24)   // 'RSDS'
    return std::nullopt;
  CodeViewRecord cv;
  std::copy_n(record.begin() + 4, 16, cv.guid.begin());
  cv.age = *r.u32(20);
  cv.pdbPath = r.cstring(24, record.size() - 24).value_or(
      std::string(reinterpret_cast<const char *>(record.data() + 24), record.size() - 24));
  return cv;
}

Registers decodeContext(Arch arch, std::span<const uint8_t> context) {
  ByteReader r(context);
  Registers regs;
  regs.arch = arch;
  if (arch == Arch::X64 && context.size() >= 0x100) {
    for (unsigned i = 0; i < 16; ++i)
      regs.set(i, *r.u64(0x78 + 8 * i));   // Rax..R15 in encoding order
    regs.pc = *r.u64(0xF8);
    regs.eflags = *r.u32(0x44);
    regs.valid = true;
  } else if (arch == Arch::X86 && context.size() >= 0xCC) {
    // Edi Esi Ebx Edx Ecx Eax Ebp Eip SegCs EFlags Esp from 0x9C.
    constexpr unsigned order[] = {kDi, kSi, kBx, kDx, kCx, kAx, kBp};
    for (unsigned i = 0; i < std::size(order); ++i)
      regs.set(order[i], *r.u32(0x9C + 4 * i));
    regs.pc = *r.u32(0xB8);
    regs.eflags = *r.u32(0xC0);
    regs.set(kSp, *r.u32(0xC4));
    regs.valid = true;
  }
  return regs;
}

} // namespace sb::dump
