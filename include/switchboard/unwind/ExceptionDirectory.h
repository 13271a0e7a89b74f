// Lookups over the x64 exception directory: which RUNTIME_FUNCTION covers an
// address, and the chain of unwind infos from an entry to its primary.
#pragma once
#include "switchboard/pe/PeImage.h"
#include "switchboard/unwind/UnwindInfo.h"

#include <optional>
#include <vector>

namespace sb::unwind {

struct ChainLink {
  uint32_t begin = 0, end = 0, unwindRva = 0;
  bool indirect = false;          // reached through an unwind field with its low bit set
  std::optional<UnwindInfo> info; // absent when unreadable (see error)
  std::string error;
};

class ExceptionDirectory {
public:
  explicit ExceptionDirectory(const pe::PeImage &img);

  const pe::PeImage &image() const { return img_; }
  bool empty() const { return byBegin_.empty(); }
  // The entry whose [BeginAddress, EndAddress) holds rva.
  const pe::RuntimeFunction *entryFor(uint32_t rva) const;
  const pe::RuntimeFunction *entryAt(uint32_t begin) const;
  // [0] is the entry itself (its own unwind info, or the one an indirect
  // field names), then one link per chained parent up to the primary. A loop
  // or a chain longer than 32 links ends with an error on the last link.
  std::vector<ChainLink> chain(const pe::RuntimeFunction &entry) const;
  // Entries whose ranges overlap another's (a malformed or hand-made table).
  size_t overlapping() const { return overlapping_; }

private:
  const pe::PeImage &img_;
  std::vector<uint32_t> byBegin_;   // indices into img.runtimeFunctions(), sorted by begin
  size_t overlapping_ = 0;
};

} // namespace sb::unwind
