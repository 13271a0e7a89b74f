// Opens a PDB for LLVM's native reader, with the checks LLVM 16 lacks: on a
// damaged file it would otherwise allocate gigabytes or read through a null
// block list. Internal to src/pdb; compiled without RTTI like LLVM.
#pragma once
#include "switchboard/support/Expected.h"

#include <llvm/DebugInfo/PDB/Native/PDBFile.h>
#include <llvm/Support/Allocator.h>

#include <memory>
#include <string>

namespace sb::pdb {

struct OpenPdb {
  std::unique_ptr<llvm::BumpPtrAllocator> allocator;   // outlives file, which allocates from it
  std::unique_ptr<llvm::pdb::PDBFile> file;
};

Expected<OpenPdb> openPdb(const std::string &path);

} // namespace sb::pdb
