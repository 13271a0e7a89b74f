// Internal: recognises switch jump tables at an indirect jmp.
#pragma once
#include "code/Decoder.h"
#include "switchboard/code/Function.h"
#include "switchboard/image/Image.h"

#include <optional>
#include <span>

namespace sb::code {

// run: the RVAs of the instructions executed straight before the jmp (oldest
// first, the jmp itself last). bound: the number of cases a dominating
// `cmp idx, N; ja default` allows, when one was seen.
std::optional<JumpTable> recognizeJumpTable(const image::Image &img, const Decoder &dec,
                                            std::span<const uint32_t> run, std::optional<uint32_t> bound);

} // namespace sb::code
