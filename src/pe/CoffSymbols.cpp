// The COFF symbol table and its string table (present in mingw/GCC images).
#include "PeParser.h"

namespace sb::pe {

void PeParser::parseCoffSymbols(PeImage &img) {
  const Headers &h = img.headers_;
  if (!h.pointerToSymbolTable || !h.numberOfSymbols || img.mappedLayout_)
    return;   // a mapped image does not hold the symbol table (a file offset)
  const ByteReader &f = img.file_;
  uint64_t table = h.pointerToSymbolTable;
  uint64_t count = h.numberOfSymbols;
  if (table >= f.size() || count > (f.size() - table) / 18) {
    warn(img, "COFF symbol table ({} symbols at 0x{:x}) does not fit in the file", count, table);
    if (table >= f.size())
      return;
    count = (f.size() - table) / 18;
  }
  uint64_t strings = table + 18 * count;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t o = table + 18 * i;
    CoffSymbol s;
    auto nameBytes = *f.bytes(o, 8);
    if (*f.u32(o) == 0) {
      uint32_t strOff = *f.u32(o + 4);
      s.name = f.cstring(strings + strOff, 4096).value_or("");
    } else {
      s.name.assign(reinterpret_cast<const char *>(nameBytes.data()), 8);
      s.name.resize(std::min(s.name.find('\0'), s.name.size()));
    }
    s.value = *f.u32(o + 8);
    s.sectionNumber = int16_t(*f.u16(o + 12));
    s.type = *f.u16(o + 14);
    s.storageClass = *f.u8(o + 16);
    uint8_t aux = *f.u8(o + 17);
    if (s.sectionNumber > 0 && size_t(s.sectionNumber) <= img.sections_.size())
      s.rva = img.sections_[s.sectionNumber - 1].rva + s.value;
    img.coffSymbols_.push_back(std::move(s));
    i += aux;
  }
}

} // namespace sb::pe
