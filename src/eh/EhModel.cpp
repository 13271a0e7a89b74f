// Builds the C++ EH model of an image from its FuncInfos (FH3, FH4), its
// throw sites and their ThrowInfos.
//   ThrowInfo:           attributes, pmfnUnwind, pForwardCompat, pCatchableTypeArray
//   CatchableTypeArray:  nCatchableTypes, CatchableType*[]
//   CatchableType:       properties, pType, thisDisplacement{mdisp,pdisp,vdisp}, sizeOrOffset, copyFunction
//   TypeDescriptor:      pVFTable, spare, name[]
// Pointers are image-relative on x64 and absolute on x86.
#include "switchboard/eh/EhModel.h"

#include "code/Decoder.h"
#include "switchboard/calls/CallIndex.h"
#include "switchboard/cxx/Rtti.h"
#include "switchboard/support/Demangle.h"
#include "switchboard/unwind/Handlers.h"

#include <algorithm>
#include <fmt/format.h>
#include <cstring>
#include <set>
#include <span>

namespace sb::eh {
namespace {

// Funclet names, as listings show them.
std::string catchName(const code::Function &f, int index) { return fmt::format("{}$catch${}", f.name, index); }
std::string dtorName(const code::Function &f, size_t state) { return fmt::format("{}$dtor${}", f.name, state); }

// The instructions of a block, decoded with operands.
template <typename Fn>
void forEachInstruction(const image::Image &img, const code::Decoder &dec, uint32_t from, uint32_t to, Fn &&fn) {
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  for (uint32_t pc = from; pc < to;) {
    if (!dec.decodeFull(img.bytesFromRva(pc), pc, in, ops))
      return;
    if (!fn(pc, in, ops))
      return;
    pc += in.length;
  }
}

std::optional<uint32_t> branchTarget(const image::Image &img, uint32_t pc, const ZydisDecodedInstruction &in) {
  if (!in.raw.imm[0].is_relative)
    return std::nullopt;
  int64_t t = int64_t(pc) + in.length + in.raw.imm[0].value.s;
  if (t < 0 || t > 0xFFFFFFFFll)
    return std::nullopt;
  return uint32_t(t);
}

// What an unwind funclet destroys: `lea rcx,[rbp+X]` (a stack object) or
// `mov rcx,[rbp+X]` (through a pointer), then a call or jump to the destructor.
void readUnwindFunclet(const image::Image &img, const code::Decoder &dec, UnwindAction &u) {
  bool is64 = img.is64();
  ZydisRegister thisReg = is64 ? ZYDIS_REGISTER_RCX : ZYDIS_REGISTER_ECX;
  unsigned n = 0;
  forEachInstruction(img, dec, u.actionRva, u.actionRva + 0x80, [&](uint32_t pc, const ZydisDecodedInstruction &in,
                                                                    const ZydisDecodedOperand *ops) {
    if (++n > 24)
      return false;
    bool toThis = ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[0].reg.value == thisReg;
    if (toThis && ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[1].mem.base != ZYDIS_REGISTER_RSP &&
        ops[1].mem.base != ZYDIS_REGISTER_ESP && ops[1].mem.base != ZYDIS_REGISTER_RIP) {
      if (in.mnemonic == ZYDIS_MNEMONIC_LEA) {
        u.frameOffset = int32_t(ops[1].mem.disp.value);
        u.heap = false;
      } else if (in.mnemonic == ZYDIS_MNEMONIC_MOV) {
        u.frameOffset = int32_t(ops[1].mem.disp.value);
        u.heap = true;
      }
    }
    if (in.meta.category == ZYDIS_CATEGORY_CALL || in.meta.category == ZYDIS_CATEGORY_UNCOND_BR) {
      if (auto t = branchTarget(img, pc, in))
        u.destructorRva = *t;
      return false;
    }
    return in.meta.category != ZYDIS_CATEGORY_RET;
  });
}

// The last direct call before `ip` in the function: what entered a state.
uint32_t callBefore(const image::Image &img, const code::Decoder &dec, const code::Function &f, uint32_t ip) {
  for (const code::BasicBlock &b : f.blocks) {
    if (!(b.rva < ip && ip <= b.end))
      continue;
    uint32_t last = 0;
    forEachInstruction(img, dec, b.rva, ip, [&](uint32_t pc, const ZydisDecodedInstruction &in, const ZydisDecodedOperand *) {
      if (in.meta.category == ZYDIS_CATEGORY_CALL)
        if (auto t = branchTarget(img, pc, in))
          last = *t;
      return true;
    });
    return last;
  }
  return 0;
}

// x86 has no IP-to-state map: the function stores its state into the frame
// (`mov dword ptr [ebp-N], state`) next to the __ehhandler$ registration.
std::vector<IpToState> x86StateStores(const image::Image &img, const code::Decoder &dec, const code::Function &f) {
  // The state slot is the dword above the handler slot of the registration.
  std::optional<int64_t> handlerSlot;
  for (uint32_t stub : f.funclets) {
    for (const code::BasicBlock &b : f.blocks) {
      forEachInstruction(img, dec, b.rva, b.end, [&](uint32_t pc, const ZydisDecodedInstruction &in,
                                                     const ZydisDecodedOperand *ops) {
        if (in.mnemonic == ZYDIS_MNEMONIC_MOV && ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
            ops[0].mem.base == ZYDIS_REGISTER_EBP && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
            img.vaToRva(uint32_t(ops[1].imm.value.u)) == stub)
          handlerSlot = ops[0].mem.disp.value;
        return !handlerSlot;
      });
      if (handlerSlot)
        break;
    }
    if (handlerSlot)
      break;
  }
  std::vector<IpToState> out;
  if (!handlerSlot)
    return out;
  int64_t stateSlot = *handlerSlot + 4;
  for (const code::BasicBlock &b : f.blocks)
    forEachInstruction(img, dec, b.rva, b.end, [&](uint32_t pc, const ZydisDecodedInstruction &in,
                                                   const ZydisDecodedOperand *ops) {
      if (in.mnemonic == ZYDIS_MNEMONIC_MOV && ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
          ops[0].mem.base == ZYDIS_REGISTER_EBP && ops[0].mem.disp.value == stateSlot &&
          ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[0].size == 32)
        out.push_back({pc + in.length, int32_t(ops[1].imm.value.s)});
      return true;
    });
  std::sort(out.begin(), out.end(), [](const IpToState &a, const IpToState &b) { return a.ipRva < b.ipRva; });
  return out;
}

void describeFunction(const Analysis &a, const code::Decoder &dec, const code::Function &f, const FuncInfo &fi,
                      FunctionEh &out) {
  const pe::PeImage &img = a.image();
  out.ipToState = img.is64() ? fi.ipToState : x86StateStores(img, dec, f);
  int catchIndex = 0;
  for (const TryBlock &tb : fi.tryBlocks) {
    TryInfo t{tb.tryLow, tb.tryHigh, tb.catchHigh, {}, {}};
    for (size_t i = 0; i < out.ipToState.size(); ++i) {
      const IpToState &m = out.ipToState[i];
      if (m.state < tb.tryLow || m.state > tb.tryHigh)
        continue;
      uint32_t end = i + 1 < out.ipToState.size() ? out.ipToState[i + 1].ipRva : f.end();
      if (!t.ranges.empty() && t.ranges.back().second == m.ipRva)
        t.ranges.back().second = end;
      else if (end > m.ipRva)
        t.ranges.emplace_back(m.ipRva, end);
    }
    for (const CatchHandler &h : tb.handlers) {
      CatchInfo c;
      c.typeDescriptorRva = h.typeDescriptorRva;
      c.type = h.typeDescriptorRva ? cxx::typeDescriptorName(img, h.typeDescriptorRva) : "...";
      c.adjectives = h.adjectives;
      c.handlerRva = h.handlerRva;
      c.catchObjectOffset = h.catchObjectOffset;
      c.continuations = h.continuations;
      c.name = catchName(f, catchIndex++);
      t.catches.push_back(std::move(c));
    }
    out.tries.push_back(std::move(t));
  }
  for (size_t s = 0; s < fi.unwindMap.size(); ++s) {
    const UnwindMapEntry &e = fi.unwindMap[s];
    UnwindAction u;
    u.state = int32_t(s);
    u.toState = e.toState;
    u.type = e.type;
    u.actionRva = e.actionRva;
    if (e.type == UnwindType::DtorWithObj || e.type == UnwindType::DtorWithPtrToObj) {
      u.destructorRva = e.actionRva;
      u.frameOffset = e.objectOffset;
      u.heap = e.type == UnwindType::DtorWithPtrToObj;
    } else if (e.actionRva) {
      readUnwindFunclet(img, dec, u);
      u.name = dtorName(f, s);
    }
    for (const IpToState &m : out.ipToState)
      if (m.state == int32_t(s)) {
        u.constructorRva = callBefore(img, dec, f, m.ipRva);
        break;
      }
    out.unwind.push_back(std::move(u));
  }
}

// The FuncInfo one .pdata entry's unwind data names (x64).
std::optional<FuncInfo> funcInfoOfEntry(const Analysis &a, const unwind::HandlerCatalog &catalog,
                                        const pe::RuntimeFunction &rf, std::string &error) {
  const pe::PeImage &img = a.image();
  auto u = unwind::decodeUnwindInfo(img, rf.unwindRva);
  if (!u || !u->handlerRva)
    return std::nullopt;
  unwind::HandlerKind k = catalog.of(*u->handlerRva).kind;
  auto fiRva = img.readRva<uint32_t>(u->handlerDataRva);
  if (!fiRva)
    return std::nullopt;
  Expected<FuncInfo> fi = makeError("");
  switch (k) {
  case unwind::HandlerKind::CxxFrameHandler:
  case unwind::HandlerKind::CxxFrameHandler3:
  case unwind::HandlerKind::GSHandlerCheckEH:
    fi = readFuncInfo(img, *fiRva);
    break;
  case unwind::HandlerKind::CxxFrameHandler4:
  case unwind::HandlerKind::GSHandlerCheckEH4:
    fi = readFuncInfo4(img, *fiRva, rf.begin);
    break;
  default:
    return std::nullopt;
  }
  if (!fi) {
    error = fi.error();
    return std::nullopt;
  }
  return fi.take();
}

// The FuncInfo a function's unwind data (x64) or __ehhandler$ stub (x86) names.
std::optional<FuncInfo> funcInfoOf(const Analysis &a, const unwind::HandlerCatalog &catalog, const code::Function &f,
                                   std::string &error) {
  const pe::PeImage &img = a.image();
  if (f.ehFuncInfoRva && !img.is64()) {
    auto fi = readFuncInfo(img, f.ehFuncInfoRva);
    if (!fi) {
      error = fi.error();
      return std::nullopt;
    }
    return fi.take();
  }
  if (!img.is64() || f.pdataEntries.empty())
    return std::nullopt;
  return funcInfoOfEntry(a, catalog, img.runtimeFunctions()[f.pdataEntries.front()], error);
}

bool isThrowApi(const std::string &name) {
  std::string n = undecorate(name);
  return n == "_CxxThrowException" || n == "CxxThrowException";
}

void readThrowInfo(const image::Image &img, ThrowSite &t) {
  t.destructorRva = readEhPointer(img, t.throwInfoRva + 4).value_or(0);
  auto cta = readEhPointer(img, t.throwInfoRva + 12);
  if (!cta || !*cta)
    return;
  auto n = img.readRva<int32_t>(*cta);
  if (!n || *n <= 0 || *n > 64)
    return;
  for (int32_t i = 0; i < *n; ++i) {
    auto ct = readEhPointer(img, *cta + 4 + 4 * i);
    if (!ct || !*ct)
      break;
    auto type = readEhPointer(img, *ct + 4);
    if (!type)
      break;
    t.catchableDescriptors.push_back(*type);
    t.catchable.push_back(cxx::typeDescriptorName(img, *type));
    if (i == 0)
      t.copyConstructorRva = readEhPointer(img, *ct + 24).value_or(0);
  }
  if (!t.catchable.empty())
    t.type = t.catchable.front();
}

// The basic block of f that holds rva.
const code::BasicBlock *blockHolding(const code::Function &f, uint32_t rva) {
  for (const code::BasicBlock &b : f.blocks)
    if (b.rva <= rva && rva < b.end)
      return &b;
  return nullptr;
}

// The ThrowInfo argument of a call to _CxxThrowException at `site`: rdx on
// x64, the first of the two pushed arguments on x86. 0 is a rethrow.
std::optional<uint32_t> throwInfoArgument(const image::Image &img, const code::Decoder &dec,
                                          const code::BasicBlock &b, uint32_t site) {
  std::optional<uint32_t> value;
  std::vector<std::optional<uint32_t>> pushes;
  forEachInstruction(img, dec, b.rva, site, [&](uint32_t pc, const ZydisDecodedInstruction &in,
                                               const ZydisDecodedOperand *ops) {
    if (img.is64()) {
      bool toRdx = ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                   (ops[0].reg.value == ZYDIS_REGISTER_RDX || ops[0].reg.value == ZYDIS_REGISTER_EDX);
      if (toRdx && in.mnemonic == ZYDIS_MNEMONIC_LEA && ops[1].mem.base == ZYDIS_REGISTER_RIP)
        value = uint32_t(pc + in.length + ops[1].mem.disp.value);
      else if (toRdx && in.mnemonic == ZYDIS_MNEMONIC_XOR && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
               ops[1].reg.value == ops[0].reg.value)
        value = 0;
      else if (toRdx && in.mnemonic == ZYDIS_MNEMONIC_MOV && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
        value = uint32_t(ops[1].imm.value.u);
      else if (toRdx)
        value.reset();
    } else if (in.mnemonic == ZYDIS_MNEMONIC_PUSH) {
      if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
        pushes.push_back(ops[0].imm.value.u == 0 ? std::optional<uint32_t>(0)
                                                 : img.vaToRva(uint32_t(ops[0].imm.value.u)));
      else
        pushes.push_back(std::nullopt);
    }
    return true;
  });
  if (!img.is64())
    return pushes.size() >= 2 ? pushes[pushes.size() - 2] : std::nullopt;
  return value;
}
} // namespace

std::vector<std::pair<uint32_t, std::string>> funcletNames(const Analysis &a, const unwind::HandlerCatalog &catalog,
                                                           const code::Function &f) {
  std::vector<std::pair<uint32_t, std::string>> out;
  if (f.funclets.empty())
    return out;
  std::string error;
  auto fi = funcInfoOf(a, catalog, f, error);
  if (!fi)
    return out;
  int catchIndex = 0;
  for (const TryBlock &tb : fi->tryBlocks)
    for (const CatchHandler &h : tb.handlers)
      out.emplace_back(h.handlerRva, catchName(f, catchIndex++));
  for (size_t s = 0; s < fi->unwindMap.size(); ++s)
    if (fi->unwindMap[s].type == UnwindType::Rva && fi->unwindMap[s].actionRva)
      out.emplace_back(fi->unwindMap[s].actionRva, dtorName(f, s));
  // Only those that are this function's own fragments (folded funclets are
  // shared and belong to one function).
  out.erase(std::remove_if(out.begin(), out.end(), [&](const auto &e) { return !f.contains(e.first); }), out.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end(), [](const auto &x, const auto &y) { return x.first == y.first; }),
            out.end());
  return out;
}

EhModel analyzeEh(const Analysis &a) {
  EhModel m;
  const pe::PeImage &img = a.image();
  if (!img.codeAnalysisSupported())
    return m;
  code::Decoder dec(img.is64(), img.imageBase());
  const unwind::HandlerCatalog &catalog = a.handlerCatalog();
  const auto &fns = a.functions();

  auto report = [&](const code::Function &f, uint32_t rva, uint32_t parentRva, const std::optional<FuncInfo> &fi,
                    const std::string &error) {
    FunctionEh fe;
    fe.rva = rva;
    fe.parentRva = parentRva;
    if (fi) {
      fe.funcInfoRva = fi->rva;
      fe.format = fi->format;
      fe.magic = fi->magic;
      fe.fh4Flags = fi->fh4Flags;
      fe.esTypeListRva = fi->esTypeListRva;
      fe.segments = fi->segments;
      describeFunction(a, dec, f, *fi, fe);
    } else {
      fe.error = error;
    }
    m.functions.push_back(std::move(fe));
  };
  for (const code::Function &f : fns) {
    std::string error;
    auto fi = funcInfoOf(a, catalog, f, error);
    if (fi || !error.empty()) {
      // A catch funclet found as a function of its own (its parent is not
      // known) still reports its FuncInfo4: it may have try blocks.
      report(f, f.rva, 0, fi, error);
    }
    // FH4 catch funclets carry a FuncInfo4 of their own (header flag
    // isCatch): they are chunks of their parent, reported with it.
    for (size_t i = 1; img.is64() && i < f.pdataEntries.size(); ++i) {
      const pe::RuntimeFunction &rf = img.runtimeFunctions()[f.pdataEntries[i]];
      if (rf.isChained() || rf.indirect)
        continue;
      std::string funcletError;
      auto own = funcInfoOfEntry(a, catalog, rf, funcletError);
      if (own || !funcletError.empty())
        report(f, rf.begin, f.rva, own, funcletError);
    }
  }

  // Throw sites: calls to _CxxThrowException directly through the IAT or
  // through an import thunk.
  std::set<uint32_t> throwIat, throwThunks;
  for (const auto &list : {&img.imports(), &img.delayImports()})
    for (const pe::Import &imp : *list)
      if (isThrowApi(imp.name))
        throwIat.insert(imp.iatRva);
  for (const code::Function &f : fns)
    if (f.isImportThunk && throwIat.count(f.thunkIatRva))
      throwThunks.insert(f.rva);
  // Statically linked (/MT): _CxxThrowException is found by what it does
  // (discovery decides it, as such a function never returns).
  if (throwIat.empty())
    for (const code::Function &f : fns)
      if (f.throwsCxx)
        throwThunks.insert(f.rva);
  if (throwIat.empty() && throwThunks.empty())
    return m;
  // The sites come from the session's call index (one decode of the code),
  // listed by function, then by address, as a sweep of each function would.
  std::vector<const calls::IndexedSite *> throwCalls;
  for (const calls::IndexedSite &cs : a.callIndex().sites()) {
    bool isThrow = !cs.tail && ((cs.calleeRva && throwThunks.count(cs.calleeRva)) ||
                                (cs.kind == calls::SiteKind::Import && throwIat.count(cs.iatRva)));
    if (isThrow)
      throwCalls.push_back(&cs);
  }
  std::sort(throwCalls.begin(), throwCalls.end(), [](const calls::IndexedSite *x, const calls::IndexedSite *y) {
    return std::pair(x->functionRva, x->siteRva) < std::pair(y->functionRva, y->siteRva);
  });
  for (const calls::IndexedSite *cs : throwCalls) {
    const code::Function *f = a.functionAt(cs->functionRva);
    const code::BasicBlock *b = f ? blockHolding(*f, cs->siteRva) : nullptr;
    if (!b)
      continue;
    ThrowSite t;
    t.siteRva = cs->siteRva;
    t.functionRva = f->rva;
    auto ti = throwInfoArgument(img, dec, *b, t.siteRva);
    if (ti && *ti == 0) {
      t.rethrow = true;
      t.type = "(rethrow)";
    } else if (ti) {
      t.throwInfoRva = *ti;
      readThrowInfo(img, t);
    }
    t.unresolved = !t.rethrow && t.type.empty();
    m.throws.push_back(std::move(t));
  }
  // A rethrow inside a catch funclet rethrows what that catch caught.
  for (ThrowSite &t : m.throws) {
    if (!t.rethrow)
      continue;
    const code::Function *owner = a.functionContaining(t.siteRva);
    if (!owner)
      continue;
    // The funclet holding the site: the nearest funclet entry at or before it.
    auto it = std::upper_bound(owner->funclets.begin(), owner->funclets.end(), t.siteRva);
    if (it == owner->funclets.begin())
      continue;
    uint32_t funclet = *std::prev(it);
    for (const FunctionEh &fe : m.functions) {
      if (fe.rva != owner->rva)
        continue;
      for (const TryInfo &tr : fe.tries)
        for (const CatchInfo &c : tr.catches)
          if (c.handlerRva == funclet) {
            t.rethrowFromRva = c.handlerRva;
            if (!c.typeDescriptorRva)
              continue;   // catch (...): what it caught is not known
            // What the catch caught is a c.type: it and its bases, as the
            // throws it receives list them (most-derived first).
            t.catchable = {c.type};
            t.catchableDescriptors = {c.typeDescriptorRva};
            for (const ThrowSite &o : m.throws) {
              auto at = std::find(o.catchableDescriptors.begin(), o.catchableDescriptors.end(), c.typeDescriptorRva);
              for (auto i = at == o.catchableDescriptors.end() ? at : at + 1; i != o.catchableDescriptors.end(); ++i)
                if (std::find(t.catchableDescriptors.begin(), t.catchableDescriptors.end(), *i) ==
                    t.catchableDescriptors.end()) {
                  t.catchable.push_back(o.catchable[size_t(i - o.catchableDescriptors.begin())]);
                  t.catchableDescriptors.push_back(*i);
                }
            }
            t.type = c.type + " (rethrow)";
          }
    }
  }
  // Which throw sites each catch can receive: in each try, the first catch
  // whose type the throw matches takes it. Where the throw's state in a
  // function is known (x64 ip-to-state maps: the site itself, or the direct
  // calls of the throwing function), only the tries around that state can
  // take it, the innermost with a matching catch first.
  // Direct call sites as (caller, callee, site), sorted: a function's calls
  // of one callee are one binary search away (every FuncInfo meets every
  // throw below, so this lookup is the hot path).
  struct DirectCall {
    uint32_t caller, callee, site;
    auto operator<=>(const DirectCall &) const = default;
  };
  std::vector<DirectCall> directCalls;
  for (const calls::IndexedSite &cs : a.callIndex().sites())
    if (cs.calleeRva && cs.kind == calls::SiteKind::Direct)
      directCalls.push_back({cs.functionRva, cs.calleeRva, cs.siteRva});
  std::sort(directCalls.begin(), directCalls.end());
  auto callsOf = [&](uint32_t caller) {
    auto lo = std::lower_bound(directCalls.begin(), directCalls.end(), DirectCall{caller, 0, 0});
    auto hi = std::lower_bound(lo, directCalls.end(), DirectCall{caller + 1, 0, 0});
    return std::span<const DirectCall>(directCalls.data() + (lo - directCalls.begin()), size_t(hi - lo));
  };
  auto stateAt = [](const FunctionEh &fe, uint32_t ip) -> std::optional<int32_t> {
    auto it = std::upper_bound(fe.ipToState.begin(), fe.ipToState.end(), ip,
                               [](uint32_t v, const IpToState &e) { return v < e.ipRva; });
    if (it == fe.ipToState.begin())
      return std::nullopt;
    return std::prev(it)->state;
  };
  std::set<uint32_t> edgesOf;   // FuncInfos whose catches have their edges: a funclet listed with
                                // its parent's FuncInfo adds none again
  for (const FunctionEh &fe : m.functions) {
    if (fe.funcInfoRva && !edgesOf.insert(fe.funcInfoRva).second)
      continue;
    if (fe.tries.empty())
      continue;   // no catch: no edge
    // The try whose catch holds a rethrow site, by the catch's handler.
    auto tryOfCatch = [&](uint32_t handler) -> const TryInfo * {
      for (const TryInfo &tr : fe.tries)
        for (const CatchInfo &c : tr.catches)
          if (c.handlerRva == handler)
            return &tr;
      return nullptr;
    };
    size_t first = m.edges.size();
    for (const TryInfo &tr : fe.tries)
      for (const CatchInfo &c : tr.catches)
        m.edges.push_back({c.type, c.handlerRva, fe.rva, {}});
    auto matches = [](const ThrowSite &t, const CatchInfo &c) {
      return !c.typeDescriptorRva || std::find(t.catchableDescriptors.begin(), t.catchableDescriptors.end(),
                                               c.typeDescriptorRva) != t.catchableDescriptors.end();
    };
    // Edge index of each try's first catch.
    std::vector<size_t> firstOfTry;
    for (size_t i = 0, e = first; i < fe.tries.size(); e += fe.tries[i].catches.size(), ++i)
      firstOfTry.push_back(e);
    auto innermostFirst = [&](std::vector<size_t> &tries) {
      std::stable_sort(tries.begin(), tries.end(), [&](size_t x, size_t y) {
        return fe.tries[x].tryHigh - fe.tries[x].tryLow < fe.tries[y].tryHigh - fe.tries[y].tryLow;
      });
    };
    // Along nested tries: the first try with a matching catch takes the throw.
    auto takeInnermost = [&](const ThrowSite &t, const std::vector<size_t> &tries) {
      for (size_t i : tries)
        for (size_t k = 0; k < fe.tries[i].catches.size(); ++k)
          if (matches(t, fe.tries[i].catches[k])) {
            std::vector<uint32_t> &sites = m.edges[firstOfTry[i] + k].throwSites;
            if (std::find(sites.begin(), sites.end(), t.siteRva) == sites.end())
              sites.push_back(t.siteRva);
            return;
          }
    };
    const uint32_t owner = fe.parentRva ? fe.parentRva : fe.rva;
    const std::span<const DirectCall> ownerCalls = callsOf(owner);
    for (const ThrowSite &t : m.throws) {
      std::vector<size_t> tries;
      if (const TryInfo *from = t.rethrowFromRva ? tryOfCatch(t.rethrowFromRva) : nullptr) {
        // A rethrow leaves its try: only the tries around it (and its catches) remain.
        for (size_t i = 0; i < fe.tries.size(); ++i)
          if (&fe.tries[i] != from && fe.tries[i].tryLow <= from->tryLow && from->catchHigh <= fe.tries[i].tryHigh)
            tries.push_back(i);
        innermostFirst(tries);
        takeInnermost(t, tries);
        continue;
      }
      // The states the throw leaves this function's frame in, when known.
      // (A funclet listed with its own FuncInfo entry stands for its parent:
      // owner above.)
      std::vector<uint32_t> sites;
      if (t.functionRva == owner)
        sites.push_back(t.siteRva);
      else
        for (auto c = std::lower_bound(ownerCalls.begin(), ownerCalls.end(), DirectCall{owner, t.functionRva, 0});
             c != ownerCalls.end() && c->callee == t.functionRva; ++c)
          sites.push_back(c->site);
      std::vector<int32_t> states;
      for (uint32_t site : sites)
        if (auto st = stateAt(fe, site))
          states.push_back(*st);
      if (!sites.empty() && states.size() == sites.size()) {
        for (int32_t st : states) {
          tries.clear();
          for (size_t i = 0; i < fe.tries.size(); ++i)
            if (fe.tries[i].tryLow <= st && st <= fe.tries[i].tryHigh)
              tries.push_back(i);
          innermostFirst(tries);
          takeInnermost(t, tries);
        }
        continue;
      }
      // Otherwise every try may be on the way: each one's first matching catch.
      for (size_t i = 0; i < fe.tries.size(); ++i)
        for (size_t k = 0; k < fe.tries[i].catches.size(); ++k)
          if (matches(t, fe.tries[i].catches[k])) {
            m.edges[firstOfTry[i] + k].throwSites.push_back(t.siteRva);
            break;
          }
    }
  }
  return m;
}

ThrowSite throwInfoAt(const image::Image &img, uint32_t throwInfoRva) {
  ThrowSite t;
  t.throwInfoRva = throwInfoRva;
  readThrowInfo(img, t);
  t.unresolved = t.catchable.empty();
  return t;
}

} // namespace sb::eh
