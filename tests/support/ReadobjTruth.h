// Imports, exports and base relocations as llvm-readobj-16 reports them: an
// independent reader to compare the PE model with.
#pragma once
#include "switchboard/pe/PeImage.h"

#include <optional>
#include <set>
#include <string>
#include <tuple>

namespace sb::test {

// (dll, symbol or "", hint-or-ordinal, delayed)
using ImportKey = std::tuple<std::string, std::string, uint32_t, bool>;
// (ordinal, name, rva, forwarder)
using ExportKey = std::tuple<uint32_t, std::string, uint32_t, std::string>;
using RelocKey = std::pair<uint32_t, std::string>;   // (rva, type name)

struct ReadobjView {
  std::multiset<ImportKey> imports;
  std::multiset<ExportKey> exports;
  std::multiset<RelocKey> relocs;
};

// nullopt when llvm-readobj fails on the file.
std::optional<ReadobjView> readobjView(const std::string &path);
ReadobjView modelView(const pe::PeImage &img);

} // namespace sb::test
