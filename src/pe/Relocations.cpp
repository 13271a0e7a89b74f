// Base relocation blocks. We keep every entry; HIGHLOW and DIR64 entries are
// the pointer-holding RVAs the code model uses to confirm absolute addresses.
#include "PeParser.h"

#include <algorithm>

namespace sb::pe {
namespace {
constexpr uint32_t kMaxBlockSize = 8 + 2 * 4096;
}

void PeParser::parseRelocations(PeImage &img) {
  const DataDirectory *d = directory(img, kDirBaseReloc);
  if (!d)
    return;
  uint64_t pos = 0;
  while (pos + 8 <= d->size) {
    auto page = img.readRva<uint32_t>(uint32_t(d->rva + pos));
    auto blockSize = img.readRva<uint32_t>(uint32_t(d->rva + pos + 4));
    if (!page || !blockSize) {
      warn(img, "relocation block at +0x{:x} is unreadable", pos);
      break;
    }
    // A block covers one 4 KB page: more than one entry per byte of it is
    // not a relocation block (and would make hostile input loop for long).
    if (*blockSize < 8 || *blockSize > d->size - pos || *blockSize > kMaxBlockSize) {
      if (*page == 0 && *blockSize == 0)
        break;   // zero padding after the last block
      warn(img, "relocation block at +0x{:x} has invalid size 0x{:x}", pos, *blockSize);
      break;
    }
    uint32_t count = (*blockSize - 8) / 2;
    for (uint32_t i = 0; i < count; ++i) {
      auto e = img.readRva<uint16_t>(uint32_t(d->rva + pos + 8 + 2 * i));
      if (!e)
        break;
      uint8_t type = uint8_t(*e >> 12);
      if (type == 0)
        continue;   // IMAGE_REL_BASED_ABSOLUTE: padding
      img.relocations_.push_back({uint32_t(*page + (*e & 0xFFF)), type});
    }
    if (img.relocations_.size() > img.headers().sizeOfImage / 2 + 4096) {
      warn(img, "more relocations than the image has room for; the rest is ignored");
      break;
    }
    pos += *blockSize;
  }
  std::sort(img.relocations_.begin(), img.relocations_.end(),
            [](const Relocation &a, const Relocation &b) { return a.rva < b.rva; });
}

} // namespace sb::pe
