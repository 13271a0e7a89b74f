// The undocumented "Rich" header MSVC's linker writes after the DOS stub:
// XOR-masked (comp.id, count) pairs framed by "DanS" ... "Rich" key.
#include "PeParser.h"

namespace sb::pe {

void PeParser::parseRich(PeImage &img) {
  const ByteReader &f = img.file_;
  uint32_t end = img.headers_.ntOffset;
  if (end > f.size())
    return;
  const uint32_t kRich = 0x68636952, kDanS = 0x536E6144;
  for (uint32_t pos = 0x80; pos + 8 <= end; pos += 4) {
    if (f.u32(pos) != kRich)
      continue;
    uint32_t key = *f.u32(pos + 4);
    // Walk back to the DanS marker.
    uint32_t start = 0;
    for (uint32_t p = pos; p >= 0x80 && p >= 4; p -= 4) {
      if ((*f.u32(p - 4) ^ key) == kDanS) {
        start = p - 4;
        break;
      }
    }
    if (!start) {
      warn(img, "Rich header at 0x{:x} has no DanS marker", pos);
      return;
    }
    RichHeader rh;
    rh.offset = start;
    rh.key = key;
    // DanS is followed by three zero padding dwords.
    for (uint32_t p = start + 16; p + 8 <= pos; p += 8) {
      uint32_t compId = *f.u32(p) ^ key, count = *f.u32(p + 4) ^ key;
      rh.entries.push_back({uint16_t(compId >> 16), uint16_t(compId & 0xFFFF), count});
    }
    img.rich_ = std::move(rh);
    return;
  }
}

} // namespace sb::pe
