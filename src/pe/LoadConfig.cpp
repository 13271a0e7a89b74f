// IMAGE_LOAD_CONFIG_DIRECTORY32/64: security cookie, SafeSEH table, CFG table.
// Fields exist only when the structure's own Size field covers them.
#include "PeParser.h"

namespace sb::pe {
namespace {
struct Layout {
  uint32_t cookie, sehTable, sehCount, guardCheck, guardDispatch, guardTable, guardCount, guardFlags;
};
constexpr Layout kLayout32{60, 64, 68, 72, 76, 80, 84, 88};
constexpr Layout kLayout64{88, 96, 104, 112, 120, 128, 136, 144};
} // namespace

void PeParser::parseLoadConfig(PeImage &img) {
  const DataDirectory *d = directory(img, kDirLoadConfig);
  if (!d)
    return;
  auto size = img.readRva<uint32_t>(d->rva);
  if (!size) {
    warn(img, "load config directory at 0x{:x} is unreadable", d->rva);
    return;
  }
  LoadConfig lc;
  lc.size = *size;
  lc.timeDateStamp = img.readRva<uint32_t>(d->rva + 4).value_or(0);
  const Layout &L = img.is64() ? kLayout64 : kLayout32;
  unsigned ps = img.pointerSize();
  auto ptrField = [&](uint32_t off) -> uint64_t {
    if (off + ps > lc.size)
      return 0;
    return img.readPointer(d->rva + off).value_or(0);
  };
  lc.securityCookieVa = ptrField(L.cookie);
  lc.seHandlerTableVa = ptrField(L.sehTable);
  lc.seHandlerCount = ptrField(L.sehCount);
  lc.guardCheckFunctionVa = ptrField(L.guardCheck);
  lc.guardDispatchFunctionVa = ptrField(L.guardDispatch);
  lc.guardFunctionTableVa = ptrField(L.guardTable);
  lc.guardFunctionCount = ptrField(L.guardCount);
  if (L.guardFlags + 4 <= lc.size)
    lc.guardFlags = img.readRva<uint32_t>(d->rva + L.guardFlags).value_or(0);

  if (lc.seHandlerTableVa && lc.seHandlerCount) {
    // Counts are bounded by the entries the file actually holds there.
    auto table = img.vaToRva(lc.seHandlerTableVa);
    if (!table || lc.seHandlerCount > img.bytesFromRva(*table).size() / 4) {
      warn(img, "SafeSEH table (VA 0x{:x}, {} entries) is not backed by the file", lc.seHandlerTableVa,
           lc.seHandlerCount);
    } else {
      for (uint64_t i = 0; i < lc.seHandlerCount; ++i) {
        auto h = img.readRva<uint32_t>(uint32_t(*table + 4 * i));
        if (!h) {
          warn(img, "SafeSEH table truncated at entry {}", i);
          break;
        }
        lc.safeSehHandlers.push_back(*h);
      }
    }
  }
  if (lc.guardFunctionTableVa && lc.guardFunctionCount) {
    auto table = img.vaToRva(lc.guardFunctionTableVa);
    // Each entry is an RVA followed by (GuardFlags >> 28) bytes of metadata.
    uint32_t stride = 4 + ((lc.guardFlags >> 28) & 0xF);
    if (!table || lc.guardFunctionCount > img.bytesFromRva(*table).size() / stride) {
      warn(img, "CFG function table (VA 0x{:x}, {} entries) is not backed by the file", lc.guardFunctionTableVa,
           lc.guardFunctionCount);
    } else {
      for (uint64_t i = 0; i < lc.guardFunctionCount; ++i) {
        auto f = img.readRva<uint32_t>(uint32_t(*table + stride * i));
        if (!f) {
          warn(img, "CFG function table truncated at entry {}", i);
          break;
        }
        lc.guardFunctions.push_back(*f);
      }
    }
  }
  img.loadConfig_ = std::move(lc);
}

} // namespace sb::pe
