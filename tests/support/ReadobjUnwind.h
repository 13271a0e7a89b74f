// Unwind data as llvm-readobj-16 --unwind prints it, and ours in the same
// canonical text, to compare a decoder with an independent one.
#pragma once
#include "switchboard/pe/PeImage.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sb::test {

struct UnwindView {
  // begin RVA -> "end unwind version flags prolog framereg frameoffset | code; code; ..."
  std::map<uint32_t, std::string> entries;
};

// nullopt when llvm-readobj fails. Only version 1 unwind infos are kept
// (LLVM 16 does not know the version 2 epilog codes).
std::optional<UnwindView> readobjUnwind(const std::string &path, uint64_t imageBase);
UnwindView modelUnwind(const pe::PeImage &img);

} // namespace sb::test
