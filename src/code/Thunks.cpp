#include "switchboard/code/Thunks.h"

#include "code/Decoder.h"

namespace sb::code {

const pe::Import *importThunkAt(const pe::PeImage &img, const Decoder &dec, uint32_t rva) {
  DecodedInsn d;
  if (!dec.decode(img.bytesFromRva(rva), rva, d) || d.flow != Flow::IndirectJump || !d.memTarget)
    return nullptr;
  return img.importForIat(*d.memTarget);
}

uint32_t followJumpStubs(const image::Image &img, const Decoder &dec, uint32_t rva) {
  DecodedInsn d;
  for (int i = 0; i < 4 && dec.decode(img.bytesFromRva(rva), rva, d) && d.flow == Flow::Jump && d.target; ++i)
    rva = *d.target;
  return rva;
}

bool buildsX86Frame(const image::Image &img, uint32_t rva) {
  auto b = img.bytesFromRva(rva);
  size_t at = b.size() >= 2 && b[0] == 0x8B && b[1] == 0xFF ? 2 : 0;   // mov edi, edi (hot-patch pad)
  return b.size() >= at + 3 && b[at] == 0x55 &&
         ((b[at + 1] == 0x8B && b[at + 2] == 0xEC) || (b[at + 1] == 0x89 && b[at + 2] == 0xE5));
}

} // namespace sb::code
