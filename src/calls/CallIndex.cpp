#include "switchboard/calls/CallIndex.h"

#include "../code/Parallel.h"
#include "code/Decoder.h"
#include "switchboard/analysis/Analysis.h"
#include "switchboard/code/Thunks.h"

#include <algorithm>
#include <optional>

namespace sb::calls {

namespace {
// What one decode of a function yields: its call and jump sites (without
// operands), the data addresses it names, and whether it flows indirectly.
struct FunctionScan {
  std::vector<IndexedSite> sites;
  std::vector<uint32_t> refs;   // sorted, unique
  bool indirectFlow = false;    // call/jmp through a register or a non-import slot
  bool indirectCalls = false;   // any call through a register or memory
  bool registerFlow = false;    // call/jmp through a register or frame slot (no address known)
  std::vector<uint32_t> reads;       // addresses ordinary instructions read (rip-relative, or x86 disp32)
  std::vector<uint32_t> callSlots;   // [slot] of call/jmp [slot] (not an IAT slot)
};

// The data addresses (not executable) one instruction names: a rip-relative
// displacement (x64), or an absolute displacement or immediate that a
// relocation covers (x86; x64 64-bit immediates likewise).
void addDataRefs(const pe::PeImage &img, const code::DecodedInsn &in, uint32_t pc, std::vector<uint32_t> &out) {
  const ZydisDecodedInstruction &d = in.insn;
  auto add = [&](uint64_t va, uint32_t fieldOffset) {
    if (!img.is64() && !img.mayHoldAddress(pc + fieldOffset))
      return;
    if (auto rva = img.vaToRva(va); rva && !img.isExecutableRva(*rva))
      out.push_back(*rva);
  };
  if (img.is64()) {
    if ((d.attributes & ZYDIS_ATTRIB_HAS_MODRM) && d.raw.modrm.mod == 0 && d.raw.modrm.rm == 5) {
      uint32_t rva = uint32_t(int64_t(in.next()) + d.raw.disp.value);
      if (img.isMappedRva(rva) && !img.isExecutableRva(rva))
        out.push_back(rva);
    }
    for (const auto &imm : d.raw.imm)
      if (imm.size == 64)
        add(imm.value.u, imm.offset);
  } else {
    if (d.raw.disp.size == 32)
      add(uint32_t(d.raw.disp.value), d.raw.disp.offset);
    for (const auto &imm : d.raw.imm)
      if (imm.size == 32)
        add(uint32_t(imm.value.u), imm.offset);
  }
}

// The site an instruction is, if it is a call or a jump that leaves the
// function (a tail call); nothing for a branch inside it.
std::optional<IndexedSite> siteOf(const Analysis &a, const code::Function &f, const code::DecodedInsn &in,
                                  uint32_t pc, FunctionScan &scan) {
  const bool call = in.flow == code::Flow::Call || in.flow == code::Flow::IndirectCall;
  const bool jump = in.flow == code::Flow::Jump || in.flow == code::Flow::IndirectJump;
  if (!call && !jump)
    return std::nullopt;
  IndexedSite s;
  s.siteRva = pc;
  s.functionRva = f.rva;
  s.tail = jump;
  if (in.target) {
    if (jump && f.contains(*in.target))
      return std::nullopt;   // a branch inside the function
    if (const code::Function *callee = a.functionAt(*in.target); callee && callee->isImportThunk) {
      s.kind = SiteKind::Thunk;
      s.iatRva = callee->thunkIatRva;
    } else if (jump && !callee) {
      return std::nullopt;   // a jump to code no function starts at: not a tail call
    }
    s.calleeRva = *in.target;
  } else if (in.memTarget && a.image().importForIat(*in.memTarget)) {
    s.kind = SiteKind::Import;
    s.iatRva = *in.memTarget;
  } else {
    scan.indirectFlow = true;
    if (in.memTarget)
      scan.callSlots.push_back(*in.memTarget);
    else
      scan.registerFlow = true;
    if (!call)
      return std::nullopt;   // jmp reg / jmp [mem]: a switch, or a tail call through a pointer
    s.kind = SiteKind::Indirect;
  }
  return s;
}

FunctionScan scanFunction(const Analysis &a, const code::Decoder &dec, const code::Function &f) {
  const pe::PeImage &img = a.image();
  FunctionScan scan;
  for (const code::BasicBlock &b : f.blocks) {
    code::DecodedInsn in;
    for (uint32_t pc = b.rva; pc < b.end && dec.decode(img.bytesFromRva(pc), pc, in); pc = in.next()) {
      if (in.flow == code::Flow::IndirectCall)
        scan.indirectCalls = true;
      if (in.flow == code::Flow::Normal || in.flow == code::Flow::IndirectCall)
        addDataRefs(img, in, pc, scan.refs);
      const bool branch = in.flow == code::Flow::Call || in.flow == code::Flow::IndirectCall ||
                          in.flow == code::Flow::Jump || in.flow == code::Flow::IndirectJump;
      if (!branch)
        if (uint32_t addr = code::absoluteMemoryRva(img, in))
          scan.reads.push_back(addr);
      if (auto s = siteOf(a, f, in, pc, scan))
        scan.sites.push_back(*s);
    }
  }
  auto sortUnique = [](std::vector<uint32_t> &v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  sortUnique(scan.refs);
  sortUnique(scan.callSlots);
  if (scan.registerFlow)
    sortUnique(scan.reads);
  else
    scan.reads.clear();   // nothing it reads can be called
  return scan;
}
} // namespace

CallIndex CallIndex::build(const Analysis &a) {
  CallIndex ix;
  const pe::PeImage &img = a.image();
  if (!img.codeAnalysisSupported())
    return ix;
  const code::Decoder &dec = a.decoder();
  const auto &fns = a.functions();
  std::vector<FunctionScan> per(fns.size());
  code::parallelFor(fns.size(), a.threads(), [&](size_t i) {
    if (!fns[i].isImportThunk)
      per[i] = scanFunction(a, dec, fns[i]);
  });
  ix.refStart_.reserve(fns.size() + 1);
  ix.indirectCalls_.reserve(fns.size());
  for (size_t i = 0; i < fns.size(); ++i) {
    FunctionScan &s = per[i];
    ix.sites_.insert(ix.sites_.end(), s.sites.begin(), s.sites.end());
    if (s.indirectFlow)
      ix.indirect_.push_back(fns[i].rva);
    ix.refStart_.push_back(uint32_t(ix.refs_.size()));
    ix.refs_.insert(ix.refs_.end(), s.refs.begin(), s.refs.end());
    ix.indirectCalls_.push_back(s.indirectCalls);
    for (uint32_t slot : s.callSlots)
      ix.slotReaders_.emplace(slot, fns[i].rva);
    for (uint32_t addr : s.reads)
      ix.slotReaders_.emplace(addr, fns[i].rva);
    s = {};   // the scans' memory goes as soon as it is copied
  }
  ix.refStart_.push_back(uint32_t(ix.refs_.size()));
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

std::span<const uint32_t> CallIndex::dataRefsOf(size_t functionIndex) const {
  if (functionIndex + 1 >= refStart_.size())
    return {};
  return std::span<const uint32_t>(refs_).subspan(refStart_[functionIndex],
                                                   refStart_[functionIndex + 1] - refStart_[functionIndex]);
}

std::vector<uint32_t> CallIndex::functionsReadingSlots(std::span<const uint32_t> slots) const {
  std::vector<uint32_t> out;
  for (uint32_t slot : slots) {
    auto [b, e] = slotReaders_.equal_range(slot);
    for (auto it = b; it != e; ++it)
      out.push_back(it->second);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool CallIndex::makesIndirectCalls(size_t functionIndex) const {
  return functionIndex < indirectCalls_.size() && indirectCalls_[functionIndex];
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
