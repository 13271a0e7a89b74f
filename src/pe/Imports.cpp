// IMAGE_IMPORT_DESCRIPTOR and IMAGE_DELAYLOAD_DESCRIPTOR tables.
#include "PeParser.h"

#include <algorithm>

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
        imp.name.assign(1, '?');   // (= "?" trips a GCC 12 -Wrestrict false positive under ASan)
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

namespace {
bool looksLikeModuleName(const std::string &s) {
  if (s.size() < 5 || s.size() > 64)
    return false;
  for (char c : s)
    if (c < 0x21 || c > 0x7E || c == '\\' || c == '/')
      return false;
  std::string ext = s.substr(s.size() - 4);
  for (char &c : ext)
    c = char(c | 0x20);
  return ext == ".dll" || ext == ".drv" || ext == ".ocx" || ext == ".cpl" || ext == ".exe" || ext == ".sys";
}
} // namespace

// Images linked by winebuild (and other non-MSVC toolchains) keep their
// IMAGE_DELAYLOAD_DESCRIPTORs in .data and hand them to
// ResolveDelayLoadedAPI from per-DLL stubs, without a delay-import directory
// entry. When the image imports ResolveDelayLoadedAPI and has no directory,
// the descriptors are found by their shape: Attributes 1 (RVA-based), a
// module name, and a name table whose first entry is readable.
void PeParser::findUnlistedDelayImports(PeImage &img) {
  if (!img.delayImports_.empty() ||
      std::none_of(img.imports_.begin(), img.imports_.end(), [](const Import &i) { return i.name == "ResolveDelayLoadedAPI"; }))
    return;
  const uint32_t sizeOfImage = img.headers().sizeOfImage;
  unsigned found = 0;
  for (const Section &sec : img.sections()) {
    if (sec.executable() || sec.rawSize == 0)
      continue;
    uint32_t end = sec.rva + std::min(sec.rawSize, sec.mappedSize());
    for (uint32_t at = sec.rva; at + 32 <= end && at + 32 > at; at += 4) {
      auto attrs = img.readRva<uint32_t>(at);
      if (!attrs || *attrs != 1)
        continue;
      auto nameRva = img.readRva<uint32_t>(at + 4), hmod = img.readRva<uint32_t>(at + 8),
           iat = img.readRva<uint32_t>(at + 12), names = img.readRva<uint32_t>(at + 16);
      if (!nameRva || !hmod || !iat || !names || *hmod >= sizeOfImage || *iat >= sizeOfImage || *names >= sizeOfImage ||
          *iat == 0 || *names == 0)
        continue;
      auto dll = img.cstringAtRva(*nameRva, 80);
      auto first = img.readPointer(*names);
      if (!dll || !looksLikeModuleName(*dll) || !first || *first == 0)
        continue;
      if (++found > kMaxDescriptors) {
        warn(img, "unlisted delay-import descriptors: more than {}, stopped", kMaxDescriptors);
        return;
      }
      readThunks(img, img.delayImports_, *dll, *names, *iat, true, false);
      at += 28;
    }
  }
  if (found)
    warn(img, "{} delay-import descriptor(s) found in data without a delay-import directory entry (ResolveDelayLoadedAPI stubs)",
         found);
}

} // namespace sb::pe
