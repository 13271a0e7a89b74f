// IMAGE_DEBUG_DIRECTORY entries and CodeView (RSDS/NB10) records.
#include "PeParser.h"

namespace sb::pe {

void PeParser::parseDebug(PeImage &img) {
  const DataDirectory *d = directory(img, kDirDebug);
  if (!d)
    return;
  uint32_t count = d->size / 28;
  if (count > 64) {
    warn(img, "debug directory has {} entries; reading the first 64", count);
    count = 64;
  }
  const ByteReader &f = img.file_;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t at = d->rva + 28 * i;
    DebugEntry e;
    auto type = img.readRva<uint32_t>(at + 12);
    if (!type) {
      warn(img, "debug directory entry {} is unreadable", i);
      break;
    }
    e.type = *type;
    e.timeDateStamp = img.readRva<uint32_t>(at + 4).value_or(0);
    e.sizeOfData = img.readRva<uint32_t>(at + 16).value_or(0);
    e.addressOfRawData = img.readRva<uint32_t>(at + 20).value_or(0);
    e.pointerToRawData = img.readRva<uint32_t>(at + 24).value_or(0);
    if (e.type == 2 && e.sizeOfData >= 16) {   // IMAGE_DEBUG_TYPE_CODEVIEW
      uint64_t off = e.pointerToRawData;
      if (e.addressOfRawData)
        if (auto o = img.rvaToOffset(e.addressOfRawData))
          off = *o;
      auto bytes = f.bytes(off, e.sizeOfData);
      if (!bytes) {
        warn(img, "CodeView record at file offset 0x{:x} is outside the file", off);
      } else {
        ByteReader r(*bytes);
        CodeViewInfo cv;
        cv.signature.assign(reinterpret_cast<const char *>(bytes->data()), 4);
        if (cv.signature == "RSDS" && r.has(0, 24)) {
          for (int k = 0; k < 16; ++k)
            cv.guid[k] = *r.u8(4 + k);
          cv.age = *r.u32(20);
          cv.pdbPath = r.cstring(24, 1024).value_or("");
          e.codeView = std::move(cv);
        } else if (cv.signature == "NB10" && r.has(0, 16)) {
          cv.age = *r.u32(12);
          cv.pdbPath = r.cstring(16, 1024).value_or("");
          e.codeView = std::move(cv);
        }
      }
    }
    img.debug_.push_back(std::move(e));
  }
}

} // namespace sb::pe
