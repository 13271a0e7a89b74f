// DOS header, NT headers, optional header, section table.
#include "PeParser.h"

#include <algorithm>

namespace sb::pe {
namespace {
Machine classifyMachine(uint16_t m) {
  switch (m) {
  case 0x014c: return Machine::X86;
  case 0x8664: return Machine::X64;
  case 0x01c0: case 0x01c2: case 0x01c4: return Machine::Arm;
  case 0xaa64: return Machine::Arm64;
  default: return Machine::Other;
  }
}
} // namespace

std::optional<Error> PeParser::parseHeaders(PeImage &img) {
  const ByteReader &f = img.file_;
  Headers &h = img.headers_;
  if (f.u16(0) != uint16_t(0x5A4D))
    return makeError("not a PE file: no MZ signature");
  auto lfanew = f.u32(0x3C);
  if (!lfanew)
    return makeError("not a PE file: truncated DOS header");
  h.ntOffset = *lfanew;
  if (f.u32(h.ntOffset) != uint32_t(0x00004550))
    return makeError(fmt::format("not a PE file: no PE signature at e_lfanew 0x{:x}", h.ntOffset));
  uint64_t fh = uint64_t(h.ntOffset) + 4;
  if (!f.has(fh, 20))
    return makeError("truncated COFF file header");
  h.machineRaw = *f.u16(fh);
  h.machine = classifyMachine(h.machineRaw);
  h.numberOfSections = *f.u16(fh + 2);
  h.timeDateStamp = *f.u32(fh + 4);
  h.pointerToSymbolTable = *f.u32(fh + 8);
  h.numberOfSymbols = *f.u32(fh + 12);
  h.sizeOfOptionalHeader = *f.u16(fh + 16);
  h.characteristics = *f.u16(fh + 18);

  uint64_t oh = fh + 20;
  auto magic = f.u16(oh);
  if (!magic)
    return makeError("truncated optional header");
  h.magic = *magic;
  if (h.magic == 0x20b)
    h.is64 = true;
  else if (h.magic != 0x10b)
    return makeError(fmt::format("unknown optional header magic 0x{:x}", h.magic));
  size_t fixed = h.is64 ? 112 : 96;   // bytes before the data directories
  if (!f.has(oh, fixed))
    return makeError("truncated optional header");
  h.linkerMajor = *f.u8(oh + 2);
  h.linkerMinor = *f.u8(oh + 3);
  h.sizeOfCode = *f.u32(oh + 4);
  h.entryPointRva = *f.u32(oh + 16);
  h.baseOfCode = *f.u32(oh + 20);
  h.imageBase = h.is64 ? *f.u64(oh + 24) : *f.u32(oh + 28);
  h.sectionAlignment = *f.u32(oh + 32);
  h.fileAlignment = *f.u32(oh + 36);
  h.osMajor = *f.u16(oh + 40);
  h.osMinor = *f.u16(oh + 42);
  h.subsystemMajor = *f.u16(oh + 48);
  h.subsystemMinor = *f.u16(oh + 50);
  h.sizeOfImage = *f.u32(oh + 56);
  h.sizeOfHeaders = *f.u32(oh + 60);
  h.checksum = *f.u32(oh + 64);
  h.subsystem = *f.u16(oh + 68);
  h.dllCharacteristics = *f.u16(oh + 70);
  h.numberOfRvaAndSizes = *f.u32(oh + fixed - 4);
  if (h.numberOfRvaAndSizes > 16) {
    warn(img, "NumberOfRvaAndSizes is {} (more than 16); using 16", h.numberOfRvaAndSizes);
    h.numberOfRvaAndSizes = 16;
  }
  uint64_t dd = oh + fixed;
  for (unsigned i = 0; i < h.numberOfRvaAndSizes; ++i) {
    if (dd + 8 * i + 8 > oh + h.sizeOfOptionalHeader && h.sizeOfOptionalHeader != 0) {
      warn(img, "data directory {} lies outside SizeOfOptionalHeader", i);
    }
    auto rva = f.u32(dd + 8 * i), size = f.u32(dd + 8 * i + 4);
    if (!rva || !size) {
      warn(img, "data directories truncated after {} entries", i);
      h.numberOfRvaAndSizes = i;
      break;
    }
    h.directories[i] = {*rva, *size};
  }
  if (h.machine == Machine::X64 && !h.is64)
    warn(img, "x64 machine with a PE32 optional header");
  if (h.machine == Machine::X86 && h.is64)
    warn(img, "x86 machine with a PE32+ optional header");
  return std::nullopt;
}

void PeParser::parseSections(PeImage &img) {
  const ByteReader &f = img.file_;
  const Headers &h = img.headers_;
  uint64_t table = uint64_t(h.ntOffset) + 4 + 20 + h.sizeOfOptionalHeader;
  for (unsigned i = 0; i < h.numberOfSections; ++i) {
    uint64_t o = table + 40ull * i;
    if (!f.has(o, 40)) {
      warn(img, "section table truncated: {} of {} headers present", i, h.numberOfSections);
      break;
    }
    Section s;
    auto raw = *f.bytes(o, 8);
    s.name.assign(reinterpret_cast<const char *>(raw.data()), 8);
    s.name.resize(std::min(s.name.find('\0'), s.name.size()));
    s.virtualSize = *f.u32(o + 8);
    s.rva = *f.u32(o + 12);
    s.rawSize = *f.u32(o + 16);
    s.rawOffset = *f.u32(o + 20);
    s.characteristics = *f.u32(o + 36);
    if (img.mappedLayout_) {
      // Mapped: a section's bytes are where the loader put them.
      s.rawOffset = s.rva;
      s.rawSize = s.rva < f.size() ? uint32_t(std::min<uint64_t>(s.mappedSize(), f.size() - s.rva)) : 0;
    } else if (h.fileAlignment >= 0x200) {
      // The loader rounds PointerToRawData down to 512 when FileAlignment allows it.
      s.rawOffset &= ~0x1FFu;
    }
    if (s.rawOffset >= f.size() && s.rawSize) {
      warn(img, "section {} ('{}') raw data at 0x{:x} is past the end of the file", i, s.name, s.rawOffset);
      s.rawSize = 0;
    } else if (uint64_t(s.rawOffset) + s.rawSize > f.size()) {
      warn(img, "section {} ('{}') raw data truncated by the end of the file", i, s.name);
      s.rawSize = uint32_t(f.size() - s.rawOffset);
    }
    if (uint64_t(s.rva) + s.mappedSize() > 0x100000000ull) {
      warn(img, "section {} ('{}') extends past 4 GB", i, s.name);
      s.virtualSize = uint32_t(0x100000000ull - s.rva);
    }
    img.sections_.push_back(std::move(s));
  }
  for (const Section &s : img.sections_)
    img.mapped_.push_back(image::Section{s.name, s.rva, s.mappedSize(), s.readable(), s.writable(), s.executable(),
                                         s.hasCode()});
  // Address lookups only consider sections that map something.
  for (uint32_t i = 0; i < img.sections_.size(); ++i)
    if (img.sections_[i].mappedSize())
      img.sectionOrder_.push_back(i);
  std::stable_sort(img.sectionOrder_.begin(), img.sectionOrder_.end(),
                   [&](uint32_t a, uint32_t b) { return img.sections_[a].rva < img.sections_[b].rva; });
  for (size_t i = 1; i < img.sectionOrder_.size(); ++i) {
    const Section &a = img.sections_[img.sectionOrder_[i - 1]], &b = img.sections_[img.sectionOrder_[i]];
    if (uint64_t(a.rva) + a.mappedSize() > b.rva)
      warn(img, "sections '{}' and '{}' overlap", a.name, b.name);
  }
  img.buildSectionSpans();
}

} // namespace sb::pe
