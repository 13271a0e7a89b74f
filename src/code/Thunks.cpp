#include "switchboard/code/Thunks.h"

namespace sb::code {

const pe::Import *importThunkAt(const pe::PeImage &img, const Decoder &dec, uint32_t rva) {
  DecodedInsn d;
  if (!dec.decode(img.bytesFromRva(rva), rva, d) || d.flow != Flow::IndirectJump || !d.memTarget)
    return nullptr;
  return img.importForIat(*d.memTarget);
}

uint32_t followJumpStubs(const pe::PeImage &img, const Decoder &dec, uint32_t rva) {
  DecodedInsn d;
  for (int i = 0; i < 4 && dec.decode(img.bytesFromRva(rva), rva, d) && d.flow == Flow::Jump && d.target; ++i)
    rva = *d.target;
  return rva;
}

} // namespace sb::code
