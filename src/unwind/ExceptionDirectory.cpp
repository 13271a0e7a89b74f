#include "switchboard/unwind/ExceptionDirectory.h"

#include <algorithm>
#include <fmt/format.h>
#include <set>

namespace sb::unwind {
namespace {
constexpr unsigned kMaxChain = 32;
}

ExceptionDirectory::ExceptionDirectory(const pe::PeImage &img) : img_(img) {
  const auto &rf = img.runtimeFunctions();
  byBegin_.resize(rf.size());
  for (uint32_t i = 0; i < rf.size(); ++i)
    byBegin_[i] = i;
  std::sort(byBegin_.begin(), byBegin_.end(), [&](uint32_t a, uint32_t b) { return rf[a].begin < rf[b].begin; });
  for (size_t i = 1; i < byBegin_.size(); ++i)
    if (rf[byBegin_[i]].begin < rf[byBegin_[i - 1]].end)
      ++overlapping_;
}

const pe::RuntimeFunction *ExceptionDirectory::entryFor(uint32_t rva) const {
  const auto &rf = img_.runtimeFunctions();
  auto it = std::upper_bound(byBegin_.begin(), byBegin_.end(), rva,
                             [&](uint32_t v, uint32_t idx) { return v < rf[idx].begin; });
  // With overlapping (malformed) entries the nearest one may not hold rva;
  // look back a little.
  for (int k = 0; k < 8 && it != byBegin_.begin(); ++k) {
    --it;
    if (rva >= rf[*it].begin && rva < rf[*it].end)
      return &rf[*it];
  }
  return nullptr;
}

const pe::RuntimeFunction *ExceptionDirectory::entryAt(uint32_t begin) const {
  const auto &rf = img_.runtimeFunctions();
  auto it = std::lower_bound(byBegin_.begin(), byBegin_.end(), begin,
                             [&](uint32_t idx, uint32_t v) { return rf[idx].begin < v; });
  return it != byBegin_.end() && rf[*it].begin == begin ? &rf[*it] : nullptr;
}

std::vector<ChainLink> ExceptionDirectory::chain(const pe::RuntimeFunction &entry) const {
  std::vector<ChainLink> out;
  std::set<uint32_t> seen;
  ChainLink link{entry.begin, entry.end, entry.unwindRva, false, std::nullopt, {}};
  for (unsigned depth = 0;; ++depth) {
    if (depth == kMaxChain) {
      out.back().error = fmt::format("chain longer than {} links, stopped", kMaxChain);
      break;
    }
    if (!seen.insert(link.unwindRva).second) {
      if (!out.empty())
        out.back().error = fmt::format("chain loops back to unwind info 0x{:x}", link.unwindRva);
      break;
    }
    if (link.unwindRva & 1) {
      // Indirect: the field names another RUNTIME_FUNCTION (BBT); continue
      // with that entry's unwind data.
      uint32_t target = link.unwindRva & ~1u;
      auto b = img_.readRva<uint32_t>(target), e = img_.readRva<uint32_t>(target + 4),
           u = img_.readRva<uint32_t>(target + 8);
      link.indirect = true;
      if (!b || !e || !u) {
        link.error = fmt::format("indirect RUNTIME_FUNCTION at 0x{:x} is unreadable", target);
        out.push_back(link);
        break;
      }
      out.push_back(link);
      link = ChainLink{*b, *e, *u, false, std::nullopt, {}};
      continue;
    }
    auto info = decodeUnwindInfo(img_, link.unwindRva);
    if (!info) {
      link.error = info.error();
      out.push_back(link);
      break;
    }
    link.info = info.take();
    std::optional<ChainedEntry> next = link.info->chained;
    out.push_back(std::move(link));
    if (!next)
      break;
    link = ChainLink{next->begin, next->end, next->unwindRva, false, std::nullopt, {}};
    if (!entryAt(next->begin) && !img_.isExecutableRva(next->begin))
      link.error = fmt::format("chained entry 0x{:x} is not in code", next->begin);
  }
  return out;
}

} // namespace sb::unwind
