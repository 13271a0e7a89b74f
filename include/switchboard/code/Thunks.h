// Small code shapes every layer asks about: an import thunk (`jmp [IAT]`),
// a jump stub (`jmp target`: incremental linking) and an x86 frame prolog.
#pragma once
#include "switchboard/pe/PeImage.h"

#include <optional>

namespace sb::code {

class Decoder;

// The import an import thunk at rva jumps through, or nullptr (PE: the IAT).
const pe::Import *importThunkAt(const pe::PeImage &img, const Decoder &dec, uint32_t rva);
// Where a chain of jump stubs starting at rva ends (rva itself if none).
uint32_t followJumpStubs(const image::Image &img, const Decoder &dec, uint32_t rva);
// Whether x86 code at rva builds its own frame (`[mov edi, edi;] push ebp;
// mov ebp, esp`): no label inside a function sets up a frame again.
bool buildsX86Frame(const image::Image &img, uint32_t rva);

} // namespace sb::code
