#include "switchboard/calls/CallIndex.h"

#include "../code/Parallel.h"
#include "code/Decoder.h"
#include "switchboard/analysis/Analysis.h"
#include "switchboard/code/Thunks.h"

#include <algorithm>

namespace sb::calls {

namespace {
// The call and jump sites of one function, without operands.
std::vector<IndexedSite> sitesOf(const Analysis &a, const code::Decoder &dec, const code::Function &f,
                                 bool &indirect) {
  const pe::PeImage &img = a.image();
  std::vector<IndexedSite> out;
  indirect = false;
  for (const code::BasicBlock &b : f.blocks) {
    code::DecodedInsn in;
    for (uint32_t pc = b.rva; pc < b.end && dec.decode(img.bytesFromRva(pc), pc, in); pc = in.next()) {
      const bool call = in.flow == code::Flow::Call || in.flow == code::Flow::IndirectCall;
      const bool jump = in.flow == code::Flow::Jump || in.flow == code::Flow::IndirectJump;
      if (!call && !jump)
        continue;
      IndexedSite s;
      s.siteRva = pc;
      s.functionRva = f.rva;
      s.tail = jump;
      if (in.target) {
        if (jump && f.contains(*in.target))
          continue;   // a branch inside the function
        if (const code::Function *callee = a.functionAt(*in.target); callee && callee->isImportThunk) {
          s.kind = SiteKind::Thunk;
          s.iatRva = callee->thunkIatRva;
        } else if (jump && !callee) {
          continue;   // a jump to code no function starts at: not a tail call
        }
        s.calleeRva = *in.target;
      } else if (in.memTarget && img.importForIat(*in.memTarget)) {
        s.kind = SiteKind::Import;
        s.iatRva = *in.memTarget;
      } else if (call) {
        s.kind = SiteKind::Indirect;
        indirect = true;
      } else {
        indirect = true;   // jmp reg / jmp [mem]: a switch, or a tail call through a pointer
        continue;
      }
      out.push_back(s);
    }
  }
  return out;
}
} // namespace

CallIndex CallIndex::build(const Analysis &a) {
  CallIndex ix;
  const pe::PeImage &img = a.image();
  if (!img.codeAnalysisSupported())
    return ix;
  const code::Decoder &dec = a.decoder();
  const auto &fns = a.functions();
  std::vector<std::vector<IndexedSite>> per(fns.size());
  std::vector<char> indirect(fns.size(), 0);
  code::parallelFor(fns.size(), a.threads(), [&](size_t i) {
    bool any = false;
    if (!fns[i].isImportThunk)
      per[i] = sitesOf(a, dec, fns[i], any);
    indirect[i] = any;
  });
  for (auto &v : per)
    ix.sites_.insert(ix.sites_.end(), v.begin(), v.end());
  for (size_t i = 0; i < fns.size(); ++i)
    if (indirect[i])
      ix.indirect_.push_back(fns[i].rva);
  std::sort(ix.sites_.begin(), ix.sites_.end(),
            [](const IndexedSite &x, const IndexedSite &y) { return x.siteRva < y.siteRva; });
  ix.sites_.erase(std::unique(ix.sites_.begin(), ix.sites_.end(),
                              [](const IndexedSite &x, const IndexedSite &y) { return x.siteRva == y.siteRva; }),
                  ix.sites_.end());
  for (uint32_t i = 0; i < ix.sites_.size(); ++i) {
    if (ix.sites_[i].calleeRva)
      ix.byCallee_.emplace(ix.sites_[i].calleeRva, i);
    if (ix.sites_[i].iatRva)
      ix.byIat_.emplace(ix.sites_[i].iatRva, i);
  }
  return ix;
}

const IndexedSite *CallIndex::siteAt(uint32_t siteRva) const {
  auto it = std::lower_bound(sites_.begin(), sites_.end(), siteRva,
                             [](const IndexedSite &s, uint32_t v) { return s.siteRva < v; });
  return it != sites_.end() && it->siteRva == siteRva ? &*it : nullptr;
}

namespace {
std::vector<const IndexedSite *> lookup(const std::unordered_multimap<uint32_t, uint32_t> &map,
                                        const std::vector<IndexedSite> &sites, uint32_t key) {
  std::vector<const IndexedSite *> out;
  auto [b, e] = map.equal_range(key);
  for (auto it = b; it != e; ++it)
    out.push_back(&sites[it->second]);
  std::sort(out.begin(), out.end(), [](auto *x, auto *y) { return x->siteRva < y->siteRva; });
  return out;
}
} // namespace

std::vector<const IndexedSite *> CallIndex::callersOf(uint32_t rva) const { return lookup(byCallee_, sites_, rva); }

std::vector<const IndexedSite *> CallIndex::callersOfImport(uint32_t iatRva) const {
  return lookup(byIat_, sites_, iatRva);
}

std::vector<uint32_t> CallIndex::functionsCalling(std::span<const uint32_t> callees,
                                                  std::span<const uint32_t> slots) const {
  std::vector<uint32_t> out;
  for (uint32_t c : callees)
    for (const IndexedSite *s : callersOf(c))
      out.push_back(s->functionRva);
  for (uint32_t slot : slots)
    for (const IndexedSite *s : callersOfImport(slot))
      out.push_back(s->functionRva);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

} // namespace sb::calls
