// x86 `__ehhandler$` stubs: the per-function handler MSVC registers in the
// SEH chain. It loads the function's FuncInfo and jumps to the C++ frame
// handler; built with /GS it first checks one or two EH cookies.
#pragma once
#include "switchboard/image/Image.h"

#include <cstdint>
#include <optional>

namespace sb::code { class Decoder; }

namespace sb::eh {

// The FuncInfo RVA when the code at rva is such a stub:
//   [mov edx,[esp+8]; lea eax,[edx+N]; (mov ecx,[edx-M]; xor ecx,eax; call check)+]
//   mov eax, offset FuncInfo; jmp __CxxFrameHandler3 (static, or through the IAT)
std::optional<uint32_t> x86EhStubFuncInfo(const image::Image &img, const code::Decoder &dec, uint32_t rva);

} // namespace sb::eh
