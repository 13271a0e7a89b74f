// A statically linked _CxxThrowException has no name; it is found by what it
// does, by function discovery (it does not return) and by the EH model (its
// callers are throw sites).
#pragma once
#include "switchboard/code/Function.h"
#include "switchboard/pe/PeImage.h"

namespace sb::code {

class Decoder;

// _CxxThrowException(object, ThrowInfo) raises the C++ exception code: it
// calls RaiseException after storing 0xE06D7363 into the exception record
// (mov [rsp+N], imm) or copying a record template that starts with it (x86:
// `mov esi, offset template; rep movsd`). Code that only compares the value
// (the frame handler, __DestructExceptionObject) neither stores it nor raises.
bool raisesCxxException(const pe::PeImage &img, const Decoder &dec, const Function &f);

} // namespace sb::code
