// Recursive descent over one function. Decoding is linear within a run and
// follows branches through a work list; a run stops at a terminator, at an
// instruction already decoded, or at another function's start.
#include "Explorer.h"

#include "JumpTables.h"
#include "switchboard/code/Thunks.h"

#include <algorithm>
#include <array>
#include <deque>

namespace sb::code {
namespace {
constexpr size_t kMaxInstructions = 200000;
constexpr size_t kRunWindow = 24;   // instructions kept for jump-table recognition

// Instruction starts seen in this function: a bitmap per 4 KB page.
class VisitedSet {
public:
  bool test(uint32_t rva) {
    uint64_t *bits = page(rva >> 12);
    uint32_t bit = rva & 0xFFF;
    return bits[bit >> 6] & (1ull << (bit & 63));
  }
  bool testAndSet(uint32_t rva) {
    uint64_t *bits = page(rva >> 12);
    uint32_t bit = rva & 0xFFF;
    bool was = bits[bit >> 6] & (1ull << (bit & 63));
    bits[bit >> 6] |= 1ull << (bit & 63);
    return was;
  }

private:
  uint64_t *page(uint32_t p) {
    if (p == lastPage_)
      return last_;
    for (auto &e : pages_)
      if (e.first == p) {
        lastPage_ = p;
        return last_ = e.second.data();
      }
    pages_.emplace_back(p, std::array<uint64_t, 64>{});
    lastPage_ = p;
    return last_ = pages_.back().second.data();
  }
  std::deque<std::pair<uint32_t, std::array<uint64_t, 64>>> pages_;
  uint32_t lastPage_ = ~0u;
  uint64_t *last_ = nullptr;
};

struct InsnRec {
  uint32_t rva;
  uint8_t len;
  Flow flow;
};

struct WorkItem {
  uint32_t rva;
  std::optional<uint32_t> bound;   // jump-table bound implied on this path
  // After an unconditional jump: the run that jumped here. Compilers hoist a
  // jump table's base (`lea r15, [table]`) out of a loop whose condition
  // block holds the indirect jmp; the run before the jump still sets it.
  std::vector<uint32_t> before;
};

bool inRanges(const std::vector<Range> &rs, uint32_t a) {
  for (const Range &r : rs)
    if (r.contains(a))
      return true;
  return false;
}

// The bound a `cmp X, imm; jcc` pair implies for each path, for the unsigned
// compares switch lowering uses.
void boundsFromCompare(const Decoder &dec, const image::Image &img, uint32_t cmpRva, const DecodedInsn &jcc,
                       std::optional<uint32_t> &takenBound, std::optional<uint32_t> &fallBound) {
  ZydisMnemonic m = jcc.insn.mnemonic;
  if (m != ZYDIS_MNEMONIC_JNBE && m != ZYDIS_MNEMONIC_JNB && m != ZYDIS_MNEMONIC_JBE && m != ZYDIS_MNEMONIC_JB)
    return;
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!dec.decodeFull(img.bytesFromRva(cmpRva), cmpRva, in, ops) || in.mnemonic != ZYDIS_MNEMONIC_CMP ||
      ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
    return;
  uint64_t n = ops[1].imm.value.u & (ops[0].size >= 64 ? ~0ull : ((1ull << ops[0].size) - 1));
  if (n >= 0x10000)
    return;
  switch (m) {
  case ZYDIS_MNEMONIC_JNBE: fallBound = uint32_t(n + 1); break;   // ja default
  case ZYDIS_MNEMONIC_JNB: fallBound = uint32_t(n); break;        // jae default
  case ZYDIS_MNEMONIC_JBE: takenBound = uint32_t(n + 1); break;   // jbe cases
  case ZYDIS_MNEMONIC_JB: takenBound = uint32_t(n); break;        // jb cases
  default: break;
  }
}
} // namespace

bool CodeFacts::isStart(uint32_t rva) const { return std::binary_search(starts.begin(), starts.end(), rva); }

bool CodeFacts::isWeak(uint32_t rva) const { return std::binary_search(weakStarts.begin(), weakStarts.end(), rva); }
bool CodeFacts::isCalledWeak(uint32_t rva) const {
  return std::binary_search(calledWeakStarts.begin(), calledWeakStarts.end(), rva);
}

bool CodeFacts::isNoReturn(uint32_t rva) const {
  return std::binary_search(noReturnStarts.begin(), noReturnStarts.end(), rva);
}

const pe::RuntimeFunction *CodeFacts::pdataCovering(uint32_t rva) const {
  const auto &rf = img.runtimeFunctions();
  auto it = std::upper_bound(pdataByBegin.begin(), pdataByBegin.end(), rva,
                             [&](uint32_t v, uint32_t idx) { return v < rf[idx].begin; });
  if (it == pdataByBegin.begin())
    return nullptr;
  const pe::RuntimeFunction &f = rf[*std::prev(it)];
  return rva < f.end ? &f : nullptr;
}

Exploration exploreFunction(const CodeFacts &facts, uint32_t entry, const std::vector<Range> &ownRanges,
                            const std::vector<uint32_t> &extraEntries, const ExploreLimits &limits) {
  const pe::PeImage &img = facts.img;
  const Decoder &dec = facts.dec;
  const bool usePdata = !facts.pdataByBegin.empty();
  Exploration ex;
  ex.fn.rva = entry;

  VisitedSet visited;
  std::vector<InsnRec> insns;
  std::vector<std::pair<uint32_t, uint32_t>> edges;   // (branch insn, target)
  std::vector<uint32_t> leaders{entry};
  std::vector<WorkItem> work{{entry, std::nullopt, {}}};
  for (uint32_t e : extraEntries) {
    leaders.push_back(e);
    work.push_back({e, std::nullopt, {}});
  }

  // Is a branch from this function to target a jump out of it (a tail call)?
  // jmp [IAT] at the target: an import thunk, always a function of its own.
  auto leaves = [&](uint32_t target) {
    if (target == entry || std::find(extraEntries.begin(), extraEntries.end(), target) != extraEntries.end())
      return false;
    // A start known only from a pointer to it is no boundary for a jump: it
    // may as well be a label of this function (a case, a continuation).
    if ((facts.isStart(target) && (!facts.isWeak(target) || facts.isCalledWeak(target))) || importThunkAt(img, dec, target))
      return true;
    if (usePdata) {
      if (!ownRanges.empty())
        return !inRanges(ownRanges, target);
      return facts.pdataCovering(target) != nullptr;
    }
    return false;
  };
  // Without .pdata, a jump to code that builds a frame of its own
  // (`[mov edi, edi;] push ebp; mov ebp, esp`) enters another function: no
  // label inside a function sets up a frame again.
  auto entersFrame = [&](uint32_t target) {
    return !usePdata && !dec.is64() && target != entry && buildsX86Frame(img, target);
  };
  auto tailCall = [&](uint32_t target) {
    ex.fn.tailCalls.push_back(target);
    ex.hasReturnPath = true;
    const pe::RuntimeFunction *cover = usePdata ? facts.pdataCovering(target) : nullptr;
    if (!cover || cover->begin == target)
      ex.newStarts.push_back(target);
  };

  DecodedInsn d;
  std::vector<uint32_t> run;
  run.reserve(kRunWindow);
  size_t refsSeen = 0;
  for (;;) {
    if (work.empty()) {
      // Code addresses this function takes that lie inside its own span and
      // that its flow did not reach are its own labels (EH continuations,
      // computed jumps), not new functions.
      uint32_t lo = entry, hi = entry;
      for (const InsnRec &in : insns)
        hi = std::max(hi, in.rva + in.len);
      for (; refsSeen < ex.codeRefs.size(); ++refsSeen) {
        uint32_t r = ex.codeRefs[refsSeen];
        bool inside = usePdata && !ownRanges.empty() ? inRanges(ownRanges, r) : (r > lo && r < hi);
        if (inside && (!facts.isStart(r) || facts.isWeak(r)) && !visited.test(r)) {
          leaders.push_back(r);
          work.push_back({r, std::nullopt, {}});
        }
      }
      if (work.empty())
        break;
    }
    WorkItem item = work.back();
    work.pop_back();
    uint32_t pc = item.rva;
    std::optional<uint32_t> bound = item.bound;
    run = std::move(item.before);
    for (;;) {
      if (insns.size() >= std::min(kMaxInstructions, limits.maxInstructions) ||
          (limits.within && !limits.within->contains(pc))) {
        ex.fn.truncated = true;
        work.clear();
        break;
      }
      if (pc != item.rva && facts.isStart(pc))
        break;   // fell through into the next function
      if (visited.testAndSet(pc))
        break;
      auto bytes = img.bytesFromRva(pc);
      if (!img.isExecutableRva(pc) || !dec.decode(bytes, pc, d)) {
        ex.fn.truncated = true;
        break;
      }
      insns.push_back({pc, uint8_t(d.insn.length), d.flow});
      if (run.size() == kRunWindow)
        run.erase(run.begin());
      run.push_back(pc);

      // Code addresses taken as values: lea [rip+X] on x64, relocated imm32 on x86.
      if (dec.is64()) {
        if (d.insn.mnemonic == ZYDIS_MNEMONIC_LEA && d.insn.raw.modrm.mod == 0 && d.insn.raw.modrm.rm == 5) {
          int64_t t = int64_t(pc) + d.insn.length + d.insn.raw.disp.value;
          if (t > 0 && t < 0xFFFFFFFFll && img.isExecutableRva(uint32_t(t)))
            ex.codeRefs.push_back(uint32_t(t));
        }
      } else if (d.insn.raw.imm[0].size == 32 && !d.insn.raw.imm[0].is_relative &&
                 img.mayHoldAddress(pc + d.insn.raw.imm[0].offset)) {
        if (auto r = img.vaToRva(uint32_t(d.insn.raw.imm[0].value.u)); r && img.isExecutableRva(*r))
          ex.codeRefs.push_back(*r);
      }

      bool stop = false;
      switch (d.flow) {
      case Flow::Normal:
        break;
      case Flow::Return:
        ex.hasReturnPath = true;
        stop = true;
        break;
      case Flow::Stop:
        stop = true;
        break;
      case Flow::Call:
        // A call to one of this function's own entries (x86: a local unwind
        // calling its __finally block) stays inside the function.
        if (d.target && std::find(extraEntries.begin(), extraEntries.end(), *d.target) != extraEntries.end()) {
          if (!visited.test(*d.target)) {
            leaders.push_back(*d.target);
            work.push_back({*d.target, std::nullopt, {}});
          }
          break;
        }
        if (d.target && img.isExecutableRva(*d.target)) {
          ex.fn.callees.push_back(*d.target);
          ex.newStarts.push_back(*d.target);
          if (facts.isNoReturn(*d.target)) {
            ex.noReturnCallSites.push_back(pc);
            stop = true;
          }
        }
        break;
      case Flow::IndirectCall:
        if (d.memTarget && facts.noReturnIat.count(*d.memTarget)) {
          ex.noReturnCallSites.push_back(pc);
          stop = true;
        }
        break;
      case Flow::Jump:
        stop = true;
        if (!d.target || !img.isExecutableRva(*d.target))
          break;
        // Without .pdata of its own to bound the function (x86, x64 leaf
        // functions), an unconditional jump to before its entry is a tail
        // call: compilers place a function's own code (cold parts included)
        // after its entry.
        // A jump as a function's first instruction makes it a thunk
        // (incremental-linking stubs, adjustor thunks): always a tail call.
        if (pc == entry || leaves(*d.target) || entersFrame(*d.target) || (ownRanges.empty() && *d.target < entry &&
                                  std::find(extraEntries.begin(), extraEntries.end(), *d.target) == extraEntries.end())) {
          tailCall(*d.target);
        } else {
          edges.emplace_back(pc, *d.target);
          leaders.push_back(*d.target);
          work.push_back({*d.target, bound, run});
        }
        break;
      case Flow::CondJump: {
        std::optional<uint32_t> takenBound, fallBound;
        if (run.size() >= 2)
          boundsFromCompare(dec, img, run[run.size() - 2], d, takenBound, fallBound);
        if (d.target && img.isExecutableRva(*d.target)) {
          // GCC's shrink-wrapping sets up the frame after early exits, so a
          // conditional jump to a frame prolog stays inside the function;
          // MSVC (a Rich header says the linker) does not shrink-wrap, and
          // its CRT routines branch to each other (_ftol2_sse -> _ftol2).
          if (leaves(*d.target) || (img.richHeader() && entersFrame(*d.target))) {
            tailCall(*d.target);
          } else {
            edges.emplace_back(pc, *d.target);
            leaders.push_back(*d.target);
            work.push_back({*d.target, takenBound ? takenBound : bound, {}});
          }
        }
        leaders.push_back(d.next());
        if (fallBound)
          bound = fallBound;
        break;
      }
      case Flow::IndirectJump: {
        stop = true;
        if (pc == entry && d.memTarget && img.importForIat(*d.memTarget)) {
          ex.fn.isImportThunk = true;
          ex.fn.thunkIatRva = *d.memTarget;
          ex.hasReturnPath = !facts.noReturnIat.count(*d.memTarget);
          break;
        }
        if (auto jt = recognizeJumpTable(img, dec, run, bound)) {
          std::vector<uint32_t> uniq = jt->targets;
          std::sort(uniq.begin(), uniq.end());
          uniq.erase(std::unique(uniq.begin(), uniq.end()), uniq.end());
          for (uint32_t t : uniq) {
            if (leaves(t))
              continue;
            edges.emplace_back(pc, t);
            leaders.push_back(t);
            work.push_back({t, std::nullopt, {}});
          }
          ex.fn.jumpTables.push_back(std::move(*jt));
        } else {
          ex.hasReturnPath = true;   // an indirect tail call, as far as we know
        }
        break;
      }
      }
      if (stop)
        break;
      pc = d.next();
    }
  }

  ex.instructions = insns.size();
  // Basic blocks: cut the sorted instruction list at leaders, after
  // terminators and at gaps.
  std::sort(ex.noReturnCallSites.begin(), ex.noReturnCallSites.end());
  std::sort(insns.begin(), insns.end(), [](const InsnRec &a, const InsnRec &b) { return a.rva < b.rva; });
  std::sort(leaders.begin(), leaders.end());
  std::sort(edges.begin(), edges.end());
  auto isLeader = [&](uint32_t a) { return std::binary_search(leaders.begin(), leaders.end(), a); };
  auto &blocks = ex.fn.blocks;
  for (size_t i = 0; i < insns.size(); ++i) {
    const InsnRec &in = insns[i];
    bool newBlock = blocks.empty() || isLeader(in.rva) || blocks.back().end != in.rva;
    if (!newBlock) {
      Flow pf = insns[i - 1].flow;
      newBlock = pf == Flow::Jump || pf == Flow::CondJump || pf == Flow::IndirectJump || pf == Flow::Return ||
                 pf == Flow::Stop;
    }
    if (newBlock)
      blocks.push_back({in.rva, in.rva, {}});
    blocks.back().end = in.rva + in.len;
    bool last = i + 1 == insns.size() || insns[i + 1].rva != blocks.back().end || isLeader(insns[i + 1].rva) ||
                in.flow == Flow::Jump || in.flow == Flow::CondJump || in.flow == Flow::IndirectJump ||
                in.flow == Flow::Return || in.flow == Flow::Stop;
    if (last) {
      auto &succ = blocks.back().successors;
      auto it = std::lower_bound(edges.begin(), edges.end(), std::make_pair(in.rva, 0u));
      for (; it != edges.end() && it->first == in.rva; ++it)
        succ.push_back(it->second);
      bool falls = in.flow == Flow::Normal || in.flow == Flow::CondJump || in.flow == Flow::Call ||
                   in.flow == Flow::IndirectCall;
      uint32_t next = in.rva + in.len;
      if (falls && i + 1 < insns.size() && insns[i + 1].rva == next &&
          !std::binary_search(ex.noReturnCallSites.begin(), ex.noReturnCallSites.end(), in.rva))
        succ.push_back(next);
      std::sort(succ.begin(), succ.end());
      succ.erase(std::unique(succ.begin(), succ.end()), succ.end());
    }
  }

  // Chunks: each of the function's own .pdata ranges (the primary entry and
  // every chained fragment, kept apart so fragments stay visible), plus the
  // contiguous runs of blocks that lie outside them.
  std::vector<Range> pieces(ownRanges.begin(), ownRanges.end());
  std::vector<Range> extra;
  for (const BasicBlock &b : blocks) {
    bool inside = false;
    for (const Range &r : ownRanges)
      if (b.rva >= r.rva && b.end <= r.end)
        inside = true;
    if (inside)
      continue;
    if (!extra.empty() && extra.back().end == b.rva)
      extra.back().end = b.end;
    else
      extra.push_back({b.rva, b.end});
  }
  std::sort(pieces.begin(), pieces.end(), [](const Range &a, const Range &b) { return a.rva < b.rva; });
  for (const Range &r : extra) {
    bool merged = false;
    for (Range &p : pieces)
      if (r.rva < p.end && p.rva < r.end) {
        p.rva = std::min(p.rva, r.rva);
        p.end = std::max(p.end, r.end);
        merged = true;
        break;
      }
    if (!merged)
      pieces.push_back(r);
  }
  std::sort(pieces.begin(), pieces.end(), [](const Range &a, const Range &b) { return a.rva < b.rva; });
  ex.fn.chunks = std::move(pieces);
  auto uniqueSort = [](std::vector<uint32_t> &v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  uniqueSort(ex.fn.callees);
  uniqueSort(ex.fn.tailCalls);
  uniqueSort(ex.newStarts);
  uniqueSort(ex.codeRefs);
  return ex;
}

} // namespace sb::code
