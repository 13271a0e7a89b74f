#include "switchboard/code/Discovery.h"

#include "Explorer.h"
#include "switchboard/code/CxxThrow.h"
#include "switchboard/code/Thunks.h"
#include "switchboard/eh/EhStub.h"
#include "switchboard/eh/FuncInfo.h"
#include "switchboard/unwind/ScopeTable.h"
#include "Parallel.h"

#include <algorithm>
#include <map>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace sb::code {
namespace {
constexpr unsigned kMaxRefinePasses = 4;

// Sorts ranges and merges those that overlap or touch.
std::vector<Range> mergeRanges(std::vector<Range> v) {
  std::sort(v.begin(), v.end(), [](const Range &a, const Range &b) { return a.rva < b.rva; });
  std::vector<Range> merged;
  for (const Range &r : v) {
    if (!merged.empty() && r.rva <= merged.back().end)
      merged.back().end = std::max(merged.back().end, r.end);
    else
      merged.push_back(r);
  }
  return merged;
}

struct State {
  const pe::PeImage &img;
  Decoder dec;
  DiscoveryOptions opts;
  std::unordered_map<uint32_t, uint32_t> sources;   // start -> SourceFlags
  // Starts whose only evidence comes from exploring weak (pointer-only)
  // functions: they stay weak until a strong function confirms them.
  std::unordered_set<uint32_t> weakDerived;
  std::unordered_map<uint32_t, Exploration> done;
  std::map<uint32_t, std::vector<Range>> pdataRanges;   // function start -> its .pdata ranges
  std::unordered_map<uint32_t, std::vector<uint32_t>> pdataOwned;   // function start -> RUNTIME_FUNCTION indices
  std::unordered_map<uint32_t, std::vector<uint32_t>> extraEntries; // function start -> EH funclets
  std::unordered_map<uint32_t, uint32_t> funcInfoOf;                // function start -> FuncInfo RVA
  // FH4 (destructor, frame offset, through a pointer) -> the .pdata begins whose FuncInfo4 runs it.
  std::map<std::tuple<uint32_t, int32_t, bool>, std::vector<uint32_t>> fh4DtorActions;
  std::unordered_map<uint32_t, bool> throwsCxxCache;                // function start -> raises the C++ exception
  CodeFacts facts;

  explicit State(const pe::PeImage &image, const DiscoveryOptions &o)
      : img(image), dec(image.is64(), image.imageBase()), opts(o), facts{image, dec, {}, {}, {}, {}, {}, {}} {}

  // What is derived from a function's exploration goes with it.
  void setExploration(uint32_t rva, Exploration ex) {
    done[rva] = std::move(ex);
    throwsCxxCache.erase(rva);
  }

  bool addStart(uint32_t rva, uint32_t flag) {
    if (!img.isExecutableRva(rva))
      return false;
    auto [it, inserted] = sources.try_emplace(rva, 0);
    it->second |= flag;
    return inserted;
  }

  bool isWeakNow(uint32_t rva) const {
    auto it = sources.find(rva);
    return (it != sources.end() && it->second == kFromCodeRef) || weakDerived.count(rva);
  }

  // Records the starts an exploration of `from` revealed; returns the new ones.
  void noteStarts(uint32_t from, const Exploration &ex, std::vector<uint32_t> &next) {
    bool weak = isWeakNow(from);
    for (uint32_t t : ex.newStarts) {
      bool isTail = std::binary_search(ex.fn.tailCalls.begin(), ex.fn.tailCalls.end(), t) &&
                    !std::binary_search(ex.fn.callees.begin(), ex.fn.callees.end(), t);
      bool inserted = addStart(t, isTail ? kFromTailJump : kFromCall);
      if (inserted && weak)
        weakDerived.insert(t);
      else if (!weak)
        weakDerived.erase(t);
      if (inserted)
        next.push_back(t);
    }
  }

  const std::vector<Range> &rangesOf(uint32_t rva) const {
    static const std::vector<Range> none;
    auto it = pdataRanges.find(rva);
    return it == pdataRanges.end() ? none : it->second;
  }

  void refreshStarts() {
    facts.starts.clear();
    facts.weakStarts.clear();
    facts.calledWeakStarts.clear();
    facts.starts.reserve(sources.size());
    for (auto &[rva, f] : sources) {
      facts.starts.push_back(rva);
      if (f == kFromCodeRef || weakDerived.count(rva)) {
        facts.weakStarts.push_back(rva);
        if (f & kFromCall)
          facts.calledWeakStarts.push_back(rva);
      }
    }
    std::sort(facts.starts.begin(), facts.starts.end());
    std::sort(facts.weakStarts.begin(), facts.weakStarts.end());
    std::sort(facts.calledWeakStarts.begin(), facts.calledWeakStarts.end());
  }

  const std::vector<uint32_t> &extrasOf(uint32_t rva) const {
    static const std::vector<uint32_t> none;
    auto it = extraEntries.find(rva);
    return it == extraEntries.end() ? none : it->second;
  }

  Exploration exploreOne(uint32_t rva) const { return exploreFunction(facts, rva, rangesOf(rva), extrasOf(rva)); }

  // x64: a function whose UNWIND_INFO names a handler with FH3 data owns the
  // funclets its FuncInfo lists; their .pdata entries become its ranges.
  void attachX64Funclets() {
    const auto &rf = img.runtimeFunctions();
    std::unordered_map<uint32_t, std::vector<uint32_t>> owners;   // FuncInfo -> functions naming it
    std::unordered_map<uint32_t, eh::FuncInfo> infos;
    std::unordered_map<uint32_t, uint32_t> funcletInfo;           // funclet -> FuncInfo
    for (uint32_t i : facts.pdataByBegin) {
      const pe::RuntimeFunction &f = rf[i];
      if (f.primary != i || !f.unwindValid || !(f.unwindFlags & 3) || (f.unwindFlags & 4))
        continue;
      auto count = img.readRva<uint8_t>(f.unwindRva + 2);
      if (!count)
        continue;
      uint32_t handlerAt = f.unwindRva + 4 + 2 * ((*count + 1u) & ~1u);
      auto fiRva = img.readRva<uint32_t>(handlerAt + 4);
      if (!fiRva)
        continue;
      if (!infos.count(*fiRva)) {
        auto magic = img.readRva<uint32_t>(*fiRva);
        if (!magic || !eh::isFuncInfoMagic(*magic))
          continue;   // FH4 or another handler's data
        auto fi = eh::readFuncInfo(img, *fiRva);
        if (!fi)
          continue;
        for (uint32_t c : fi->funclets())
          funcletInfo[c] = *fiRva;
        infos.emplace(*fiRva, fi.take());
      }
      owners[*fiRva].push_back(f.begin);
    }
    for (auto &[fiRva, who] : owners) {
      std::sort(who.begin(), who.end());
      auto parent = std::find_if(who.begin(), who.end(), [&](uint32_t b) { return !funcletInfo.count(b); });
      if (parent == who.end())
        continue;
      attach(*parent, fiRva, infos[fiRva].funclets());
    }
    attachFh4Funclets();
  }

  // FH4: every function and catch funclet has a FuncInfo4 of its own, which
  // lists its catch funclets and its unwind funclets (entries of type RVA;
  // Dtor* entries name destructors, which are functions). A funclet belongs
  // to the function at the top of the chain of FuncInfos listing it.
  void attachFh4Funclets() {
    const auto &rf = img.runtimeFunctions();
    std::map<uint32_t, uint32_t> ownerOf;                // funclet -> function or funclet listing it
    std::map<uint32_t, uint32_t> infoOf;                 // function -> its FuncInfo4
    for (uint32_t i : facts.pdataByBegin) {
      const pe::RuntimeFunction &f = rf[i];
      if (f.primary != i || !f.unwindValid || !(f.unwindFlags & 3) || (f.unwindFlags & 4))
        continue;
      auto count = img.readRva<uint8_t>(f.unwindRva + 2);
      auto fiRva = count ? img.readRva<uint32_t>(f.unwindRva + 4 + 2 * ((*count + 1u) & ~1u) + 4) : std::nullopt;
      if (!fiRva || img.isExecutableRva(*fiRva) || !img.isMappedRva(*fiRva))
        continue;
      auto magic = img.readRva<uint32_t>(*fiRva);
      if (magic && eh::isFuncInfoMagic(*magic))
        continue;   // FH3, done above
      auto fi = eh::readFuncInfo4(img, *fiRva, f.begin);
      if (!fi)
        continue;
      infoOf[f.begin] = *fiRva;
      for (const eh::TryBlock &t : fi->tryBlocks)
        for (const eh::CatchHandler &h : t.handlers)
          if (h.handlerRva != f.begin)
            ownerOf.emplace(h.handlerRva, f.begin);
      for (const eh::UnwindMapEntry &u : fi->unwindMap) {
        if (u.type == eh::UnwindType::Rva && u.actionRva && u.actionRva != f.begin)
          ownerOf.emplace(u.actionRva, f.begin);
        // Dtor* entries name the destructor itself: a function, often called
        // from nowhere else.
        if ((u.type == eh::UnwindType::DtorWithObj || u.type == eh::UnwindType::DtorWithPtrToObj) && u.actionRva) {
          addStart(u.actionRva, kFromEhTable);
          if (u.objectOffset)
            fh4DtorActions[{u.actionRva, *u.objectOffset, u.type == eh::UnwindType::DtorWithPtrToObj}].push_back(f.begin);
        }
      }
    }
    std::map<uint32_t, std::vector<uint32_t>> byParent;
    for (auto &[funclet, owner] : ownerOf) {
      uint32_t top = owner;
      for (int depth = 0; depth < 16 && ownerOf.count(top); ++depth)
        top = ownerOf[top];
      if (top != funclet && !ownerOf.count(top))
        byParent[top].push_back(funclet);
    }
    for (auto &[parent, funclets] : byParent)
      attach(parent, infoOf.count(parent) ? infoOf[parent] : 0, funclets);
  }

  void attach(uint32_t parent, uint32_t fiRva, const std::vector<uint32_t> &funclets) {
    if (fiRva)
      funcInfoOf[parent] = fiRva;
    for (uint32_t c : funclets) {
      if (c == parent)
        continue;
      auto &extra = extraEntries[parent];
      if (std::find(extra.begin(), extra.end(), c) == extra.end())
        extra.push_back(c);
      if (auto it = pdataRanges.find(c); it != pdataRanges.end()) {
        auto &dst = pdataRanges[parent];
        dst.insert(dst.end(), it->second.begin(), it->second.end());
        pdataRanges.erase(c);
      }
      if (auto it = pdataOwned.find(c); it != pdataOwned.end()) {
        auto &dst = pdataOwned[parent];
        dst.insert(dst.end(), it->second.begin(), it->second.end());
        pdataOwned.erase(c);
      }
      sources.erase(c);
      done.erase(c);
    }
  }

  // SEH scope tables name three kinds of code: __except targets (labels of
  // the function), and filters and termination handlers, which are
  // fragments of the function when they run on its frame and functions of
  // their own when they build one.
  void noteScopeCode(uint32_t parent, uint32_t code, bool label, std::vector<uint32_t> &fragments) {
    // x86 MSVC emits filters and __finally blocks inside their function; one
    // that needs no frame (`mov eax, 1; ret`) is no less its fragment.
    if (label || unwind::usesParentFrame(img, dec, code) || (!img.is64() && !buildsX86Frame(img, code)))
      fragments.push_back(code);
    else
      addStart(code, kFromEhTable);
  }

  // x64: __C_specific_handler (and __GSHandlerCheck_SEH) data is a scope
  // table; we recognize it by its shape, inside the function's own ranges.
  void attachX64ScopeTables() {
    const auto &rf = img.runtimeFunctions();
    for (uint32_t i : facts.pdataByBegin) {
      const pe::RuntimeFunction &f = rf[i];
      if (f.primary != i || !f.unwindValid || !(f.unwindFlags & 3) || (f.unwindFlags & 4) ||
          !pdataRanges.count(f.begin))
        continue;
      auto count = img.readRva<uint8_t>(f.unwindRva + 2);
      if (!count)
        continue;
      uint32_t dataRva = f.unwindRva + 4 + 2 * ((*count + 1u) & ~1u) + 4;
      uint32_t lo = f.begin, hi = f.end;
      for (const Range &r : pdataRanges[f.begin])
        lo = std::min(lo, r.rva), hi = std::max(hi, r.end);
      auto recs = unwind::readScopeTable(img, dataRva, std::make_pair(lo, hi));
      if (!recs)
        continue;
      std::vector<uint32_t> fragments;
      for (const unwind::ScopeRecord &r : *recs) {
        if (r.target)
          noteScopeCode(f.begin, r.target, true, fragments);
        if (r.handler > 1)
          noteScopeCode(f.begin, r.handler, false, fragments);
      }
      attach(f.begin, 0, fragments);
    }
  }

  // x86: the scope table a function installs in its prolog
  // (_except_handler3/4) names its __except blocks and, when they have no
  // frame of their own, its filters and __finally blocks.
  void attachX86ScopeTables() {
    if (img.is64())
      return;
    // Weak functions too (called only from code found through pointers): the
    // table's shape and relocated pointers are evidence enough.
    std::vector<uint32_t> parents;
    for (auto &[rva, ex] : done)
      parents.push_back(rva);
    std::sort(parents.begin(), parents.end());
    std::vector<uint32_t> redo;
    refreshStarts();
    std::vector<uint32_t> strong;
    for (uint32_t s : facts.starts)
      if (!facts.isWeak(s))
        strong.push_back(s);
    for (uint32_t p : parents) {
      auto next = std::upper_bound(strong.begin(), strong.end(), p);
      uint32_t limit = next == strong.end() ? 0xFFFFFFFFu : *next;
      auto table = unwind::findX86ScopeTable(img, dec, p, limit);
      if (!table)
        continue;
      std::vector<uint32_t> fragments;
      for (const unwind::X86ScopeRecord &r : table->records) {
        noteScopeCode(p, r.handler, !r.isFinally(), fragments);
        if (r.filter)
          noteScopeCode(p, r.filter, false, fragments);
      }
      attach(p, 0, fragments);
      redo.push_back(p);
    }
    std::vector<uint32_t> fresh;
    for (auto &[rva, f] : sources)
      if ((f & kFromEhTable) && !done.count(rva))
        fresh.push_back(rva);
    reexplore(std::move(redo));
    explore(std::move(fresh));
  }

  // An x86 unwind funclet (`lea ecx, [ebp-N]; jmp ~T`) ends by jumping to
  // the destructor it runs: that destructor is a function even when nothing
  // else calls it, not a label of the funclet's parent.
  std::optional<uint32_t> funcletTailJump(uint32_t funclet) const {
    DecodedInsn d;
    uint32_t pc = funclet;
    for (int i = 0; i < 8; ++i) {
      if (!dec.decode(img.bytesFromRva(pc), pc, d))
        return std::nullopt;
      if (d.flow == Flow::Jump && d.target && img.isExecutableRva(*d.target))
        return d.target;
      if (d.flow != Flow::Normal && d.flow != Flow::Call)
        return std::nullopt;
      pc = d.next();
    }
    return std::nullopt;
  }

  // x64 leaf unwind funclets (`lea rcx, [rdx+N]; jmp ~T`: RDX is the
  // establisher frame) need no .pdata, and with FH4 nothing points at them
  // (the FuncInfo4 names the destructor and the object's frame offset
  // itself), so only the gap scan finds them. Each belongs to a function
  // whose FuncInfo4 destroys the same object with the same destructor; when
  // several do, to the one whose funclets lie nearest before it (the
  // compiler emits a function's funclets together).
  void attachX64LeafFunclets() {
    if (!img.is64())
      return;
    // Each function's known funclets span [first, last]: MSVC emits a
    // function's funclets together (.text$x), in function order.
    std::unordered_map<uint32_t, std::pair<uint32_t, uint32_t>> span;   // function -> funclet span
    auto widen = [&](uint32_t parent, uint32_t funclet) {
      auto [it, fresh] = span.try_emplace(parent, funclet, funclet);
      if (!fresh)
        it->second = {std::min(it->second.first, funclet), std::max(it->second.second, funclet)};
    };
    for (auto &[parent, extra] : extraEntries)
      for (uint32_t c : extra)
        widen(parent, c);
    std::vector<uint32_t> redo;
    for (auto &[rva, flags] : std::map<uint32_t, uint32_t>(sources.begin(), sources.end())) {
      if (flags != kFromScan)
        continue;
      auto leaf = leafFunclet(rva);
      if (!leaf)
        continue;
      auto it = fh4DtorActions.find(*leaf);
      if (it == fh4DtorActions.end())
        continue;
      // Several functions may destroy that object with that destructor (a
      // std::string at the same frame offset): the one whose funclets lie
      // nearest owns it.
      uint32_t parent = 0, best = UINT32_MAX;
      for (uint32_t candidate : it->second) {
        if (!done.count(candidate))
          continue;   // a catch funclet's FuncInfo4, or a function attached since
        if (!parent)
          parent = candidate;
        auto sp = span.find(candidate);
        if (sp == span.end())
          continue;
        auto [lo, hi] = sp->second;
        uint32_t distance = rva < lo ? lo - rva : rva > hi ? rva - hi : 0;
        if (distance < best) {
          best = distance;
          parent = candidate;
        }
      }
      if (!parent)
        continue;
      attach(parent, 0, {rva});
      widen(parent, rva);
      redo.push_back(parent);
    }
    reexplore(std::move(redo));
  }

  // (destructor, frame offset, through a pointer) of `lea rcx, [rdx+N]; jmp D`
  // or `mov rcx, [rdx+N]; jmp D`.
  std::optional<std::tuple<uint32_t, int32_t, bool>> leafFunclet(uint32_t rva) const {
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!dec.decodeFull(img.bytesFromRva(rva), rva, in, ops) ||
        (in.mnemonic != ZYDIS_MNEMONIC_LEA && in.mnemonic != ZYDIS_MNEMONIC_MOV) ||
        ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER || ops[0].reg.value != ZYDIS_REGISTER_RCX ||
        ops[1].type != ZYDIS_OPERAND_TYPE_MEMORY || ops[1].mem.base != ZYDIS_REGISTER_RDX ||
        ops[1].mem.index != ZYDIS_REGISTER_NONE)
      return std::nullopt;
    DecodedInsn j;
    uint32_t next = rva + in.length;
    if (!dec.decode(img.bytesFromRva(next), next, j) || j.flow != Flow::Jump || !j.target)
      return std::nullopt;
    return std::make_tuple(*j.target, int32_t(ops[1].mem.disp.value), in.mnemonic == ZYDIS_MNEMONIC_MOV);
  }

  // x86: `__ehhandler$f: [GS cookie checks;] mov eax, offset FuncInfo; jmp ___CxxFrameHandler3`.
  // The stub and the FuncInfo's funclets belong to the function that installs
  // the stub (the one that takes its address).
  void attachX86Funclets() {
    if (img.is64())
      return;
    std::vector<std::pair<uint32_t, uint32_t>> stubs;   // stub, FuncInfo
    for (auto &[rva, ex] : done)
      if (auto fi = eh::x86EhStubFuncInfo(img, dec, rva))
        stubs.emplace_back(rva, *fi);
    if (stubs.empty())
      return;
    std::vector<uint32_t> redo, fresh;
    for (auto [stub, fiRva] : stubs) {
      auto fi = eh::readFuncInfo(img, fiRva);
      if (!fi)
        continue;
      // Identical code folding can leave one stub (one FuncInfo) registered
      // by several functions: each owns the FuncInfo, the first its funclets.
      std::vector<uint32_t> owners;
      for (auto &[rva, ex] : done)
        if (rva != stub && std::binary_search(ex.codeRefs.begin(), ex.codeRefs.end(), stub))
          owners.push_back(rva);
      if (owners.empty())
        continue;
      std::vector<uint32_t> parts = fi->funclets();
      parts.push_back(stub);
      attach(owners.front(), fiRva, parts);
      for (const eh::UnwindMapEntry &u : fi->unwindMap)
        if (u.actionRva)
          if (auto t = funcletTailJump(u.actionRva)) {
            addStart(*t, kFromTailJump);
            weakDerived.erase(*t);   // reached from a real function's funclet
            if (!done.count(*t))
              fresh.push_back(*t);
          }
      for (size_t i = 1; i < owners.size(); ++i)
        funcInfoOf[owners[i]] = fiRva;
      redo.push_back(owners.front());
    }
    explore(std::move(fresh));
    reexplore(std::move(redo));
  }

  // The functions ex calls right after the store that leaves its outermost
  // EH4 __try: the end of a __try calling its __finally block.
  std::unordered_set<uint32_t> callsAfterTryLevelStore(const Exploration &ex) const {
    std::unordered_set<uint32_t> out;
    DecodedInsn d;
    for (const BasicBlock &b : ex.fn.blocks) {
      bool stateStored = false;
      for (uint32_t pc = b.rva; pc < b.end;) {
        auto bytes = img.bytesFromRva(pc);
        if (!dec.decode(bytes, pc, d))
          break;
        if (d.flow == Flow::Call && d.target && stateStored)
          out.insert(*d.target);
        // mov dword ptr [ebp-4], -2: leaving the outermost EH4 __try
        // (entering one stores 0 or more; C++ EH's "no state" is -1, which
        // comes before ordinary destructor calls, so it says nothing).
        stateStored = bytes.size() >= 7 && bytes[0] == 0xC7 && bytes[1] == 0x45 && bytes[2] == 0xFC &&
                      bytes[3] == 0xFE && bytes[4] == 0xFF && bytes[5] == 0xFF && bytes[6] == 0xFF;
        pc = d.next();
      }
    }
    return out;
  }

  // x86: a block entered by `call` from one function only, that runs on that
  // function's frame (reads [ebp-N] before making a frame of its own) or that
  // is called right after the try level is set, is that function's local
  // block: a local unwind calling its __finally block. Frame helpers many
  // functions call (_EH_epilog3, __SEH_epilog4) use the caller's frame too,
  // and stay functions.
  void attachX86LocalBlocks() {
    if (img.is64())
      return;
    std::unordered_map<uint32_t, std::vector<uint32_t>> callers;
    for (auto &[rva, ex] : done)
      for (uint32_t c : ex.fn.callees)
        callers[c].push_back(rva);
    std::vector<uint32_t> redo;
    // Per caller, computed once: a caller of many single-use helpers would
    // be decoded again for each of them.
    std::unordered_map<uint32_t, std::unordered_set<uint32_t>> afterTryLevel;
    auto calledAfterTryLevel = [&](uint32_t caller, uint32_t block) {
      auto it = afterTryLevel.find(caller);
      if (it == afterTryLevel.end())
        it = afterTryLevel.emplace(caller, callsAfterTryLevelStore(done.at(caller))).first;
      return it->second.count(block) > 0;
    };
    for (auto &[block, who] : callers) {
      auto src = sources.find(block);
      if (who.size() != 1 || who.front() == block || src == sources.end() ||
          (src->second & ~(kFromCall | kFromCodeRef | kFromEhTable)) != 0 || !done.count(block) ||
          !done.count(who.front()) ||   // the caller itself became a local block of another
          buildsX86Frame(img, block))   // a local block runs on its caller's frame
        continue;
      if (!unwind::usesParentFrame(img, dec, block) && !calledAfterTryLevel(who.front(), block))
        continue;
      attach(who.front(), 0, {block});
      redo.push_back(who.front());
    }
    reexplore(std::move(redo));
  }

  // Explores the given functions again with what is now known, then anything
  // new they reveal.
  void reexplore(std::vector<uint32_t> redo) {
    if (redo.empty())
      return;
    refreshStarts();
    std::sort(redo.begin(), redo.end());
    redo.erase(std::unique(redo.begin(), redo.end()), redo.end());
    std::vector<Exploration> results(redo.size());
    parallelFor(redo.size(), opts.threads, [&](size_t i) { results[i] = exploreOne(redo[i]); });
    std::vector<uint32_t> next;
    for (size_t i = 0; i < redo.size(); ++i) {
      noteStarts(redo[i], results[i], next);
      setExploration(redo[i], std::move(results[i]));
    }
    explore(std::move(next));
  }

  // A start known only from a pointer to it that turns out to be a block of
  // another function (a case label, an exception continuation) is not a
  // function; the functions that stopped at it are explored again.
  void dropAbsorbedWeakStarts() {
    refreshStarts();
    std::vector<uint32_t> drop, split;
    for (auto &[rva, ex] : done)
      for (const BasicBlock &b : ex.fn.blocks) {
        auto it = std::lower_bound(facts.weakStarts.begin(), facts.weakStarts.end(), b.rva);
        for (; it != facts.weakStarts.end() && *it < b.end; ++it) {
          // A call target at the start of a block another function jumps to
          // is a function that function tail-calls, not a label of it.
          auto src = sources.find(*it);
          bool called = src != sources.end() && (src->second & kFromCall) && *it == b.rva;
          if (*it != rva && !called)
            drop.push_back(*it);
          else if (*it != rva)
            split.push_back(rva);   // explored before the start was known: it ends there now
        }
      }
    std::sort(drop.begin(), drop.end());
    drop.erase(std::unique(drop.begin(), drop.end()), drop.end());
    if (drop.empty()) {
      reexplore(std::move(split));
      return;
    }
    for (uint32_t d : drop) {
      sources.erase(d);
      weakDerived.erase(d);
      done.erase(d);
    }
    auto dropped = [&](uint32_t a) { return std::binary_search(drop.begin(), drop.end(), a); };
    std::vector<uint32_t> redo;
    for (auto &[rva, ex] : done) {
      bool again = std::any_of(ex.fn.tailCalls.begin(), ex.fn.tailCalls.end(), dropped) ||
                   std::any_of(ex.fn.blocks.begin(), ex.fn.blocks.end(), [&](const BasicBlock &b) { return dropped(b.end); });
      if (again)
        redo.push_back(rva);
    }
    redo.insert(redo.end(), split.begin(), split.end());
    std::erase_if(redo, [&](uint32_t r) { return !done.count(r); });
    reexplore(std::move(redo));
  }

  // Real code does not execute its own alignment padding: two single-byte
  // nops or an int3 in a row mark bytes decoded out of step.
  bool runsIntoPadding(const Function &f) const {
    for (const BasicBlock &b : f.blocks) {
      auto bytes = img.bytesFromRva(b.rva);
      uint32_t n = std::min<uint32_t>(uint32_t(bytes.size()), b.end - b.rva);
      for (uint32_t i = 0; i + 1 < n; ++i)
        if ((bytes[i] == 0x90 && bytes[i + 1] == 0x90) || (bytes[i] == 0xCC && bytes[i + 1] == 0xCC))
          return true;
    }
    return false;
  }

  // Code nobody references (dead functions the linker kept, functions only
  // reached through tables we do not understand): scan the gaps between known
  // code for instruction sequences that start after padding or on a 16-byte
  // boundary and explore cleanly within the gap.
  void scanGaps() {
    std::vector<Range> cov = coveredCode();
    std::vector<Range> data;
    for (auto &[rva, ex] : done) {
      for (const Range &c : ex.fn.chunks)
        cov.push_back(c);
      for (const JumpTable &jt : ex.fn.jumpTables) {
        data.push_back({jt.tableRva, uint32_t(jt.tableRva + jt.targets.size() * jt.entrySize)});
        if (jt.indexTableRva)
          data.push_back({jt.indexTableRva, jt.tableRva > jt.indexTableRva ? jt.tableRva : jt.indexTableRva + 1});
      }
    }
    for (const auto &[begin, ranges] : pdataRanges)
      for (const Range &r : ranges)
        cov.push_back(r);
    cov.insert(cov.end(), data.begin(), data.end());
    std::vector<Range> merged = mergeRanges(std::move(cov));
    std::vector<Range> gaps;
    for (const pe::Section &s : img.sections()) {
      if (!s.executable() && !s.hasCode())
        continue;
      uint32_t end = s.rva + std::min(s.rawSize, s.mappedSize());
      uint32_t pos = s.rva;
      auto it = std::upper_bound(merged.begin(), merged.end(), pos, [](uint32_t v, const Range &r) { return v < r.rva; });
      if (it != merged.begin() && std::prev(it)->end > pos)
        pos = std::prev(it)->end;
      for (; pos < end;) {
        auto next = std::upper_bound(merged.begin(), merged.end(), pos, [](uint32_t v, const Range &r) { return v < r.rva; });
        uint32_t gapEnd = next == merged.end() ? end : std::min(end, next->rva);
        if (gapEnd > pos)
          gaps.push_back({pos, gapEnd});
        if (next == merged.end())
          break;
        pos = next->end;
      }
    }
    std::vector<uint32_t> found;
    DecodedInsn d;
    size_t gapBytes = 0;
    for (const Range &g : gaps)
      gapBytes += g.end - g.rva;
    // A linear pass over the gaps decodes about gapBytes / 4 instructions;
    // rejected candidates may cost twice that, no more.
    // Sections may map the same file bytes many times over: the file size
    // bounds what there is to scan.
    size_t budget = std::min(gapBytes, img.fileBytes().size()) / 2 + 20000;
    // Where known code ends with ret or jmp (not a call that may not
    // return), the next byte may start a function even without padding.
    std::unordered_map<uint32_t, uint32_t> blockEndingAt;   // end -> start
    for (const Range &g : gaps)
      blockEndingAt.emplace(g.rva, 0);
    for (auto &[rva, ex] : done)
      for (const BasicBlock &b : ex.fn.blocks)
        if (auto it = blockEndingAt.find(b.end); it != blockEndingAt.end())
          it->second = b.rva;
    auto endsInTransfer = [&](uint32_t end) {
      auto it = blockEndingAt.find(end);
      if (it == blockEndingAt.end() || !it->second)
        return false;
      uint32_t pc = it->second, last = pc;
      while (pc < end && dec.decode(img.bytesFromRva(pc), pc, d)) {
        last = pc;
        pc = d.next();
      }
      return dec.decode(img.bytesFromRva(last), last, d) &&
             (d.flow == Flow::Return || d.flow == Flow::Jump || d.flow == Flow::IndirectJump);
    };
    for (const Range &g : gaps) {
      uint32_t pos = g.rva;
      bool afterPadding = endsInTransfer(g.rva);
      while (pos < g.end) {
        auto bytes = img.bytesFromRva(pos);
        if (bytes.empty())
          break;
        if (bytes[0] == 0xCC || bytes[0] == 0x90 || bytes[0] == 0x00) {
          ++pos;
          afterPadding = true;
          continue;
        }
        if (dec.isPadding(bytes, pos) && dec.decode(bytes, pos, d)) {
          pos += d.insn.length;
          afterPadding = true;
          continue;
        }
        bool ok = (afterPadding || pos % 16 == 0) && !img.hasRelocationAt(pos) && budget > 0;
        if (ok) {
          // A candidate must stay inside its gap, which bounds its cost; the
          // whole scan has a budget so that a large gap of decodable bytes
          // cannot make it quadratic.
          ExploreLimits limits{g, std::min<size_t>(g.end - g.rva, 50000)};
          Exploration ex = exploreFunction(facts, pos, rangesOf(pos), extrasOf(pos), limits);
          budget -= std::min(budget, ex.instructions);
          ok = !ex.fn.truncated && !ex.fn.blocks.empty() && !runsIntoPadding(ex.fn);
          for (const BasicBlock &b : ex.fn.blocks)
            if (b.rva < g.rva || b.end > g.end)
              ok = false;
          uint32_t last = pos;
          for (const BasicBlock &b : ex.fn.blocks)
            last = std::max(last, b.end);
          if (ok) {
            found.push_back(pos);
            addStart(pos, kFromScan);
            setExploration(pos, std::move(ex));
            pos = last;
            afterPadding = true;   // code right after a whole function starts the next one
            continue;
          }
        }
        // Not code we trust: move to the next 16-byte boundary.
        pos = (pos | 15) + 1;
        afterPadding = false;
      }
    }
    std::vector<uint32_t> next;
    for (uint32_t f : found)
      noteStarts(f, done[f], next);
    explore(std::move(next));
  }

  // Explores the given starts, then every call/tail-jump target they reveal,
  // until closure.
  void explore(std::vector<uint32_t> pending) {
    while (!pending.empty()) {
      refreshStarts();
      std::vector<Exploration> results(pending.size());
      parallelFor(pending.size(), opts.threads,
                  [&](size_t i) { results[i] = exploreOne(pending[i]); });
      std::vector<uint32_t> next;
      for (size_t i = 0; i < results.size(); ++i) {
        noteStarts(pending[i], results[i], next);
        setExploration(pending[i], std::move(results[i]));
      }
      std::sort(next.begin(), next.end());
      pending = std::move(next);
      if (opts.progress)
        opts.progress("exploring", done.size());
    }
  }

  // Sorted, merged [rva,end) ranges covered by blocks of explored functions.
  std::vector<Range> coveredCode() const {
    std::vector<Range> v;
    for (auto &[rva, ex] : done)
      for (const BasicBlock &b : ex.fn.blocks)
        v.push_back({b.rva, b.end});
    return mergeRanges(std::move(v));
  }

  static bool covered(const std::vector<Range> &cov, uint32_t a) {
    auto it = std::upper_bound(cov.begin(), cov.end(), a, [](uint32_t v, const Range &r) { return v < r.rva; });
    return it != cov.begin() && std::prev(it)->contains(a);
  }

  // A code address taken as a value is a function start when no explored
  // function already contains it and (x64) it is not inside another entry's
  // .pdata range.
  bool plausibleCodeRef(const std::vector<Range> &cov, uint32_t a) const {
    if (sources.count(a) || covered(cov, a) || !img.isExecutableRva(a))
      return false;
    if (const pe::RuntimeFunction *rf = facts.pdataCovering(a); rf && rf->begin != a)
      return false;
    DecodedInsn d;
    auto bytes = img.bytesFromRva(a);
    // The first instructions must decode and not be padding.
    uint32_t pc = a;
    for (int i = 0; i < 3; ++i) {
      if (!dec.decode(img.bytesFromRva(pc), pc, d))
        return false;
      if (i == 0 && (d.flow == Flow::Stop || (bytes.size() >= 2 && bytes[0] == 0 && bytes[1] == 0)))
        return false;
      if (d.flow != Flow::Normal && d.flow != Flow::Call && d.flow != Flow::IndirectCall)
        break;
      pc = d.next();
    }
    return true;
  }

  void discoverCodeRefs() {
    std::vector<Range> cov = coveredCode();
    std::vector<uint32_t> jumpTableSlots;
    std::vector<uint32_t> candidates;
    for (auto &[rva, ex] : done) {
      for (uint32_t r : ex.codeRefs)
        candidates.push_back(r);
      for (const JumpTable &jt : ex.fn.jumpTables)
        for (uint32_t i = 0; i < jt.targets.size(); ++i)
          jumpTableSlots.push_back(jt.tableRva + i * jt.entrySize);
    }
    std::sort(jumpTableSlots.begin(), jumpTableSlots.end());
    for (const pe::Relocation &r : img.relocations()) {
      if (r.type != 3 && r.type != 10)   // HIGHLOW, DIR64
        continue;
      if (covered(cov, r.rva) || std::binary_search(jumpTableSlots.begin(), jumpTableSlots.end(), r.rva))
        continue;
      auto p = img.readPointer(r.rva);
      if (!p)
        continue;
      if (auto t = img.vaToRva(*p); t && img.isExecutableRva(*t))
        candidates.push_back(*t);
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    std::vector<uint32_t> pending;
    for (uint32_t c : candidates)
      if (plausibleCodeRef(cov, c) && addStart(c, kFromCodeRef))
        pending.push_back(c);
    commitCandidates(std::move(pending), cov);
  }

  // Explores pointer-only candidates, then keeps only those that no lower
  // candidate's code and no known function covers: a label inside a function
  // nobody had explored yet must not become a function, nor seed others.
  void commitCandidates(std::vector<uint32_t> pending, const std::vector<Range> &cov) {
    if (pending.empty())
      return;
    refreshStarts();
    std::vector<Exploration> results(pending.size());
    parallelFor(pending.size(), opts.threads, [&](size_t i) { results[i] = exploreOne(pending[i]); });
    std::vector<std::pair<Range, uint32_t>> blocks;   // candidate blocks, with the candidate's address
    for (size_t i = 0; i < pending.size(); ++i)
      for (const BasicBlock &b : results[i].fn.blocks)
        blocks.push_back({{b.rva, b.end}, pending[i]});
    std::sort(blocks.begin(), blocks.end(), [](const auto &a, const auto &b) { return a.first.rva < b.first.rva; });
    auto coveredByLower = [&](uint32_t c) {
      auto it = std::upper_bound(blocks.begin(), blocks.end(), c,
                                 [](uint32_t v, const auto &e) { return v < e.first.rva; });
      for (int k = 0; k < 64 && it != blocks.begin(); ++k) {
        --it;
        if (it->first.contains(c) && it->second < c)
          return true;
      }
      return false;
    };
    std::vector<uint32_t> next;
    for (size_t i = 0; i < pending.size(); ++i) {
      uint32_t c = pending[i];
      if (covered(cov, c) || coveredByLower(c)) {
        sources.erase(c);
        continue;
      }
      noteStarts(c, results[i], next);
      setExploration(c, std::move(results[i]));
    }
    explore(std::move(next));
  }

  // A statically linked _CxxThrowException returns as far as its code shows
  // (RaiseException is an ordinary import), but never does. Decided once per
  // exploration of a function, in parallel.
  void cacheThrowsCxx() {
    std::vector<std::pair<uint32_t, const Exploration *>> fresh;
    for (auto &[rva, ex] : done)
      if (!throwsCxxCache.count(rva))
        fresh.emplace_back(rva, &ex);
    std::vector<char> raises(fresh.size(), 0);
    parallelFor(fresh.size(), opts.threads,
                [&](size_t i) { raises[i] = raisesCxxException(img, dec, fresh[i].second->fn); });
    for (size_t i = 0; i < fresh.size(); ++i)
      throwsCxxCache.emplace(fresh[i].first, raises[i] != 0);
  }

  // Functions whose blocks swallowed another start, or whose calls reach a
  // function found not to return, are explored again with what we now know.
  bool refine() {
    refreshStarts();
    cacheThrowsCxx();
    std::vector<uint32_t> noRet;
    for (auto &[rva, ex] : done)
      if ((!ex.hasReturnPath && !ex.fn.truncated && !ex.fn.blocks.empty()) || throwsCxxCache.at(rva))
        noRet.push_back(rva);
    std::sort(noRet.begin(), noRet.end());
    std::vector<uint32_t> newlyNoRet;
    std::set_difference(noRet.begin(), noRet.end(), facts.noReturnStarts.begin(), facts.noReturnStarts.end(),
                        std::back_inserter(newlyNoRet));
    facts.noReturnStarts = std::move(noRet);
    std::vector<uint32_t> redo;
    for (auto &[rva, ex] : done) {
      bool again = false;
      for (const BasicBlock &b : ex.fn.blocks) {
        auto it = std::upper_bound(facts.starts.begin(), facts.starts.end(), b.rva);
        if ((b.rva != rva && facts.isStart(b.rva)) || (it != facts.starts.end() && *it < b.end)) {
          again = true;
          break;
        }
      }
      if (!again)
        for (uint32_t c : ex.fn.callees)
          if (std::binary_search(newlyNoRet.begin(), newlyNoRet.end(), c)) {
            again = true;
            break;
          }
      if (again)
        redo.push_back(rva);
    }
    if (redo.empty())
      return false;
    reexplore(std::move(redo));
    if (opts.progress)
      opts.progress("refining", done.size());
    return true;
  }
};
} // namespace

bool isNoReturnImport(const std::string &name) {
  static const char *const names[] = {
      "ExitProcess", "ExitThread", "FreeLibraryAndExitThread", "RtlExitUserThread", "RtlExitUserProcess",
      "FatalExit", "FatalAppExitA", "FatalAppExitW", "RaiseFailFastException", "exit", "_exit", "_Exit",
      "quick_exit", "abort", "_CxxThrowException", "__std_terminate", "terminate", "_invalid_parameter_noinfo_noreturn",
      "_invoke_watson", "longjmp", "__longjmp", "__stack_chk_fail", "__chk_fail", "_amsg_exit", "__report_gsfailure",
      "__fastfail", "RtlRaiseStatus", "ExitWindowsEx_noreturn", "_cexit_noreturn", "__cxa_throw", "__cxa_rethrow",
      "_Unwind_Resume", "std::terminate"};
  for (const char *n : names)
    if (name == n)
      return true;
  // x86 stdcall/cdecl decorations: _ExitProcess@4, __CxxThrowException@8
  if (!name.empty() && name[0] == '_') {
    std::string bare = name.substr(1);
    if (auto at = bare.find('@'); at != std::string::npos)
      bare.resize(at);
    for (const char *n : names)
      if (bare == n)
        return true;
  }
  return false;
}

std::vector<Function> discoverFunctions(const pe::PeImage &img, const DiscoveryOptions &options) {
  if (!img.codeAnalysisSupported())
    return {};
  State st(img, options);
  const auto &rf = img.runtimeFunctions();

  // .pdata: primary entries are functions; chained entries are their fragments.
  for (uint32_t i = 0; i < rf.size(); ++i)
    if (rf[i].end > rf[i].begin && img.isExecutableRva(rf[i].begin))
      st.facts.pdataByBegin.push_back(i);
  std::sort(st.facts.pdataByBegin.begin(), st.facts.pdataByBegin.end(),
            [&](uint32_t a, uint32_t b) { return rf[a].begin < rf[b].begin; });
  for (uint32_t i : st.facts.pdataByBegin) {
    const pe::RuntimeFunction &f = rf[i];
    const pe::RuntimeFunction &p = rf[f.primary];
    st.pdataRanges[p.begin].push_back({f.begin, f.end});
    st.pdataOwned[p.begin].push_back(i);
    if (f.primary == i)
      st.addStart(f.begin, kFromPdata);
  }
  st.attachX64Funclets();
  st.attachX64ScopeTables();
  for (const pe::Import &imp : img.imports())
    if (isNoReturnImport(imp.name))
      st.facts.noReturnIat.insert(imp.iatRva);
  for (const pe::Import &imp : img.delayImports())
    if (isNoReturnImport(imp.name))
      st.facts.noReturnIat.insert(imp.iatRva);

  const auto &h = img.headers();
  if (h.entryPointRva)
    st.addStart(h.entryPointRva, kFromEntry);
  for (const pe::Export &e : img.exports().exports)
    if (e.rva)
      st.addStart(e.rva, kFromExport);
  if (img.tls())
    for (uint32_t cb : img.tls()->callbackRvas)
      st.addStart(cb, kFromTls);
  if (img.loadConfig()) {
    for (uint32_t f : img.loadConfig()->guardFunctions)
      st.addStart(f, kFromCfg);
    for (uint32_t f : img.loadConfig()->safeSehHandlers)
      st.addStart(f, kFromSafeSeh);
  }
  for (const pe::CoffSymbol &s : img.coffSymbols())
    if (s.rva && s.isFunction())
      st.addStart(*s.rva, kFromSymbol);
  for (uint32_t rva : options.symbolStarts)
    if (img.isExecutableRva(rva))
      st.addStart(rva, kFromSymbol);

  // Funclets stay fragments even when another table (CFG) lists them.
  for (auto &[parent, extra] : st.extraEntries)
    for (uint32_t c : extra)
      st.sources.erase(c);
  std::vector<uint32_t> seeds;
  for (auto &[rva, f] : st.sources)
    seeds.push_back(rva);
  std::sort(seeds.begin(), seeds.end());
  st.explore(std::move(seeds));
  st.discoverCodeRefs();
  // Split tail-called functions off first, so that EH stubs go to the
  // function whose code really installs them.
  st.dropAbsorbedWeakStarts();
  st.attachX86Funclets();
  st.attachX86ScopeTables();
  st.attachX86LocalBlocks();
  st.dropAbsorbedWeakStarts();
  for (unsigned pass = 0; pass < kMaxRefinePasses && st.refine(); ++pass) {
  }
  st.scanGaps();
  st.attachX64LeafFunclets();
  // Functions the scan found may install EH stubs and scope tables too.
  st.attachX86Funclets();
  st.attachX86ScopeTables();
  st.attachX86LocalBlocks();
  st.dropAbsorbedWeakStarts();
  for (unsigned pass = 0; pass < kMaxRefinePasses && st.refine(); ++pass) {
  }

  st.cacheThrowsCxx();
  std::vector<Function> out;
  out.reserve(st.done.size());
  for (auto &[rva, ex] : st.done) {
    // A start whose first instruction does not decode (bytes past the end of
    // a truncated file, garbage) is no function.
    if (ex.fn.chunks.empty())
      continue;
    Function fn = std::move(ex.fn);
    fn.sources = st.sources[rva];
    fn.noReturn = st.facts.isNoReturn(rva);
    fn.throwsCxx = st.throwsCxxCache.at(rva);
    if (auto it = st.pdataOwned.find(rva); it != st.pdataOwned.end()) {
      fn.pdataEntries = it->second;
      std::stable_partition(fn.pdataEntries.begin(), fn.pdataEntries.end(),
                            [&](uint32_t i) { return rf[i].begin == rva; });
    }
    if (auto it = st.funcInfoOf.find(rva); it != st.funcInfoOf.end())
      fn.ehFuncInfoRva = it->second;
    fn.funclets = st.extrasOf(rva);
    std::sort(fn.funclets.begin(), fn.funclets.end());
    out.push_back(std::move(fn));
  }
  std::sort(out.begin(), out.end(), [](const Function &a, const Function &b) { return a.rva < b.rva; });
  return out;
}

} // namespace sb::code
