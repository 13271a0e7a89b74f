// x64 .pdata: IMAGE_RUNTIME_FUNCTION_ENTRY array, with each entry's UNWIND_INFO
// header read far enough to resolve chains (UNW_FLAG_CHAININFO) and indirect
// entries (unwind field with its low bit set, left by BBT). Full unwind-code
// decoding is unwind/'s job.
#include "PeParser.h"

#include <algorithm>

namespace sb::pe {
namespace {
constexpr uint8_t kUnwFlagChainInfo = 4;
constexpr unsigned kMaxChainDepth = 32;
} // namespace

void PeParser::parseExceptionTable(PeImage &img) {
  if (img.machine() != Machine::X64)
    return;
  const DataDirectory *d = directory(img, kDirException);
  if (!d)
    return;
  auto &rf = img.runtimeFunctions_;
  uint32_t count = d->size / 12;
  if (d->size % 12)
    warn(img, "exception directory size 0x{:x} is not a multiple of 12", d->size);
  // Entries past the section's file-backed bytes would read as zeros: a size
  // field cannot make us materialize more entries than the file holds.
  uint32_t backed = uint32_t(img.bytesFromRva(d->rva).size() / 12);
  if (count > backed) {
    warn(img, "exception directory claims {} entries; only {} are backed by the file", count, backed);
    count = backed;
  }
  rf.reserve(std::min<uint32_t>(count, uint32_t(img.file_.size() / 12 + 1)));
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t at = d->rva + 12 * i;
    auto b = img.readRva<uint32_t>(at), e = img.readRva<uint32_t>(at + 4), u = img.readRva<uint32_t>(at + 8);
    if (!b || !e || !u) {
      warn(img, "exception directory runs off the image at entry {}", i);
      break;
    }
    RuntimeFunction f;
    f.begin = *b;
    f.end = *e;
    f.unwindRva = *u;
    f.index = uint32_t(rf.size());
    rf.push_back(f);
  }
  // Lookup of an entry by its BeginAddress (the table should be sorted; we do
  // not rely on it).
  std::vector<uint32_t> byBegin(rf.size());
  for (uint32_t i = 0; i < rf.size(); ++i)
    byBegin[i] = i;
  std::sort(byBegin.begin(), byBegin.end(), [&](uint32_t a, uint32_t b) { return rf[a].begin < rf[b].begin; });
  auto findBegin = [&](uint32_t begin) -> std::optional<uint32_t> {
    auto it = std::lower_bound(byBegin.begin(), byBegin.end(), begin,
                               [&](uint32_t idx, uint32_t v) { return rf[idx].begin < v; });
    if (it != byBegin.end() && rf[*it].begin == begin)
      return *it;
    return std::nullopt;
  };
  unsigned unsorted = 0, badRange = 0;
  for (uint32_t i = 0; i < rf.size(); ++i) {
    RuntimeFunction &f = rf[i];
    if (i && f.begin < rf[i - 1].begin)
      ++unsorted;
    if (f.end <= f.begin || !img.isExecutableRva(f.begin))
      ++badRange;
    if (f.unwindRva & 1) {
      // Indirect: the field is the RVA (+1) of another RUNTIME_FUNCTION entry.
      f.indirect = true;
      uint32_t target = f.unwindRva & ~1u;
      std::optional<uint32_t> idx;
      if (target >= d->rva && (target - d->rva) % 12 == 0 && (target - d->rva) / 12 < rf.size())
        idx = (target - d->rva) / 12;
      else if (auto tb = img.readRva<uint32_t>(target))
        idx = findBegin(*tb);
      if (idx && *idx != i)
        f.chainedTo = *idx;
      else
        warn(img, "RUNTIME_FUNCTION {} (0x{:x}): indirect unwind reference 0x{:x} resolves to no entry", i,
             f.begin, target);
      continue;
    }
    auto hdr = img.readRva<uint32_t>(f.unwindRva);
    if (!hdr) {
      warn(img, "RUNTIME_FUNCTION {} (0x{:x}): UNWIND_INFO at 0x{:x} is unreadable", i, f.begin, f.unwindRva);
      continue;
    }
    f.unwindVersion = *hdr & 7;
    f.unwindFlags = (*hdr >> 3) & 0x1F;
    uint8_t codeCount = (*hdr >> 16) & 0xFF;
    f.unwindValid = f.unwindVersion == 1 || f.unwindVersion == 2;
    if (f.unwindValid && (f.unwindFlags & kUnwFlagChainInfo)) {
      uint32_t chained = f.unwindRva + 4 + 2 * ((codeCount + 1u) & ~1u);
      auto cb = img.readRva<uint32_t>(chained);
      if (!cb) {
        warn(img, "RUNTIME_FUNCTION {} (0x{:x}): chained entry at 0x{:x} is unreadable", i, f.begin, chained);
      } else if (auto idx = findBegin(*cb); idx && *idx != i) {
        f.chainedTo = *idx;
      } else {
        warn(img, "RUNTIME_FUNCTION {} (0x{:x}): chains to 0x{:x}, which has no entry", i, f.begin, *cb);
      }
    }
  }
  if (unsorted)
    warn(img, "exception directory is not sorted ({} entries out of order)", unsorted);
  if (badRange)
    warn(img, "exception directory: {} entries with an empty or non-code range", badRange);
  // Resolve each entry's primary by following the chain, bounded so a cycle
  // cannot loop.
  unsigned cycles = 0;
  for (uint32_t i = 0; i < rf.size(); ++i) {
    uint32_t cur = i;
    unsigned depth = 0;
    while (rf[cur].chainedTo && depth < kMaxChainDepth) {
      cur = *rf[cur].chainedTo;
      ++depth;
    }
    if (rf[cur].chainedTo) {
      ++cycles;
      rf[i].primary = i;
      rf[i].chainedTo.reset();
    } else {
      rf[i].primary = cur;
    }
  }
  if (cycles)
    warn(img, "exception directory: {} chains loop or exceed {} links", cycles, kMaxChainDepth);
}

} // namespace sb::pe
