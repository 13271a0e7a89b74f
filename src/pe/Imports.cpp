// IMAGE_IMPORT_DESCRIPTOR and IMAGE_DELAYLOAD_DESCRIPTOR tables.
#include "PeParser.h"

namespace sb::pe {
namespace {
constexpr unsigned kMaxDescriptors = 4096;
constexpr unsigned kMaxThunksPerDll = 65536;

// Walks one thunk array (the INT, or the IAT when there is no INT) and appends
// an Import per entry. iatRva is where the loader writes the resolved address.
void readThunks(PeImage &img, std::vector<Import> &out, const std::string &dll, uint32_t nameTable,
                uint32_t iat, bool delayed, bool vaBased) {
  unsigned ps = img.pointerSize();
  uint64_t ordinalFlag = img.is64() ? (1ull << 63) : (1ull << 31);
  for (unsigned i = 0; i < kMaxThunksPerDll; ++i) {
    auto entry = img.readPointer(nameTable + i * ps);
    if (!entry) {
      PeParser::warn(img, "import thunks of {} run off the image at 0x{:x}", dll, nameTable + i * ps);
      return;
    }
    if (*entry == 0)
      return;
    Import imp;
    imp.dll = dll;
    imp.delayed = delayed;
    imp.iatRva = iat + i * ps;
    if (*entry & ordinalFlag) {
      imp.byOrdinal = true;
      imp.ordinal = uint16_t(*entry & 0xFFFF);
    } else {
      uint64_t hintNameRva = *entry & 0x7FFFFFFFu;
      if (vaBased) {
        auto r = img.vaToRva(*entry);
        hintNameRva = r ? *r : 0xFFFFFFFFu;
      }
      auto hint = img.readRva<uint16_t>(uint32_t(hintNameRva));
      auto name = img.cstringAtRva(uint32_t(hintNameRva) + 2, 1024);
      if (!hint || !name) {
        PeParser::warn(img, "import {}[{}]: hint/name at 0x{:x} is unreadable", dll, i, hintNameRva);
        imp.name = "?";
      } else {
        imp.hint = *hint;
        imp.name = *name;
      }
    }
    out.push_back(std::move(imp));
  }
  PeParser::warn(img, "import thunks of {}: more than {} entries, stopped", dll, kMaxThunksPerDll);
}
} // namespace

void PeParser::parseImports(PeImage &img) {
  const DataDirectory *d = directory(img, kDirImport);
  if (!d)
    return;
  for (unsigned i = 0; i < kMaxDescriptors; ++i) {
    uint32_t at = d->rva + 20 * i;
    auto oft = img.readRva<uint32_t>(at), nameRva = img.readRva<uint32_t>(at + 12),
         ft = img.readRva<uint32_t>(at + 16);
    if (!oft || !nameRva || !ft) {
      warn(img, "import directory runs off the image at descriptor {}", i);
      return;
    }
    if (*oft == 0 && *nameRva == 0 && *ft == 0)
      return;
    auto dll = img.cstringAtRva(*nameRva, 512);
    if (!dll) {
      warn(img, "import descriptor {}: DLL name at 0x{:x} is unreadable", i, *nameRva);
      continue;
    }
    readThunks(img, img.imports_, *dll, *oft ? *oft : *ft, *ft, false, false);
  }
  warn(img, "import directory: more than {} descriptors, stopped", kMaxDescriptors);
}

void PeParser::parseDelayImports(PeImage &img) {
  const DataDirectory *d = directory(img, kDirDelayImport);
  if (!d)
    return;
  for (unsigned i = 0; i < kMaxDescriptors; ++i) {
    uint32_t at = d->rva + 32 * i;
    auto attrs = img.readRva<uint32_t>(at), nameField = img.readRva<uint32_t>(at + 4),
         iatField = img.readRva<uint32_t>(at + 12), intField = img.readRva<uint32_t>(at + 16);
    if (!attrs || !nameField || !iatField || !intField) {
      warn(img, "delay-import directory runs off the image at descriptor {}", i);
      return;
    }
    if (*nameField == 0 && *iatField == 0 && *intField == 0)
      return;
    // Attributes bit 0 clear: an old (VC6) descriptor whose fields are VAs.
    bool vaBased = (*attrs & 1) == 0;
    auto toRva = [&](uint32_t v) -> uint32_t {
      if (!vaBased)
        return v;
      auto r = img.vaToRva(v);
      return r ? *r : 0xFFFFFFFFu;
    };
    auto dll = img.cstringAtRva(toRva(*nameField), 512);
    if (!dll) {
      warn(img, "delay-import descriptor {}: DLL name unreadable", i);
      continue;
    }
    readThunks(img, img.delayImports_, *dll, toRva(*intField), toRva(*iatField), true, vaBased);
  }
  warn(img, "delay-import directory: more than {} descriptors, stopped", kMaxDescriptors);
}

} // namespace sb::pe
