// The x86 step. x86 code has no unwind data, so the caller is found as a
// debugger without FPO records finds it, in this order:
//   1. the pc is at an epilog (pops, `add esp`, `leave`, `lea esp,[ecx-4]`,
//      then `ret N`): the rest of it is emulated;
//   1a. the module's PDB has frame data for the pc (FPO programs): the
//      program is run (FrameData.cpp);
//   2. the function's prolog, traced symbolically from its start up to the
//      pc (or its first call or jump): which registers it pushed, where EBP
//      points, whether it realigned the stack (`lea ecx,[esp+4]; and esp,-16;
//      push [ecx-4]; push ebp; mov ebp,esp; push ecx`) and where it kept the
//      entry ESP, so the return address's slot is found from EBP (any point
//      in the body) or from ESP (no frame pointer, FPO);
//   3. the EBP chain ([ebp+4] the return address, [ebp] the caller's EBP)
//      when the function is unknown.
// Each answer's return address must follow a call (the caller's check);
// one that does not is dropped for the next.
#include "switchboard/dump/Unwinder.h"

#include "FrameData.h"
#include "code/Decoder.h"
#include "code/ZydisRegisters.h"
#include "switchboard/pe/PeImage.h"

#include <array>
#include <fmt/format.h>

namespace sb::dump {
namespace {

constexpr unsigned kMaxPrologInstructions = 64;
constexpr unsigned kMaxEpilogInstructions = 16;
constexpr uint32_t kMaxReturnSearch = 0x4000;   // bytes searched for the function's `ret N`

// A traced value, relative to what the function saw at its entry.
struct Sym {
  enum Kind : uint8_t { Unknown, Entry, Aligned, Original, Constant } kind = Unknown;
  int64_t k = 0;       // Entry/Aligned: the offset from that base; Constant: the value
  unsigned reg = 0;    // Original: the register whose entry value this is
  static Sym entry(int64_t k) { return {Entry, k, 0}; }
  static Sym original(unsigned r) { return {Original, 0, r}; }
  bool address() const { return kind == Entry || kind == Aligned; }
};
// Entry: ESP at the entry (the return address's slot); Aligned: ESP right
// after `and esp, -N` (its value is only known through a register set from it).

struct Slot {
  Sym where;   // Entry or Aligned + k
  Sym value;
};

// The prolog as executed up to the pc, or up to where tracing stopped.
struct Trace {
  std::array<Sym, 8> reg;
  std::vector<Slot> slots;
  bool reachedPc = false;   // the state is the one at the pc itself

  Trace() {
    for (unsigned r = 0; r < 8; ++r)
      reg[r] = Sym::original(r);
    reg[kSp] = Sym::entry(0);
  }
  void store(const Sym &where, const Sym &value) {
    for (Slot &s : slots)
      if (s.where.kind == where.kind && s.where.k == where.k) {
        s.value = value;
        return;
      }
    slots.push_back({where, value});
  }
  Sym load(const Sym &where) const {
    for (const Slot &s : slots)
      if (s.where.kind == where.kind && s.where.k == where.k)
        return s.value;
    return {};
  }
};

int gpr32(ZydisRegister r) {
  if (r < ZYDIS_REGISTER_EAX || r > ZYDIS_REGISTER_EDI)
    return -1;
  return int(r - ZYDIS_REGISTER_EAX);
}

// [reg+disp] with no index, as a traced address.
std::optional<Sym> traceAddress(const Trace &t, const ZydisDecodedOperand &op) {
  if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.index != ZYDIS_REGISTER_NONE)
    return std::nullopt;
  const int b = gpr32(op.mem.base);
  if (b < 0 || !t.reg[unsigned(b)].address())
    return std::nullopt;
  Sym s = t.reg[unsigned(b)];
  s.k += op.mem.disp.has_displacement ? op.mem.disp.value : 0;
  return s;
}

Sym operandValue(const Trace &t, const ZydisDecodedOperand &op) {
  if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    const int r = gpr32(op.reg.value);
    return r >= 0 ? t.reg[unsigned(r)] : Sym{};
  }
  if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
    return {Sym::Constant, int64_t(uint32_t(op.imm.value.u)), 0};
  if (auto a = traceAddress(t, op))
    return t.load(*a);
  return {};
}

// One instruction applied to the trace; false when tracing must stop (a
// transfer, or ESP changed in a way it cannot follow).
bool applyInstruction(Trace &t, const code::DecodedInsn &in, const ZydisDecodedOperand *ops) {
  const ZydisDecodedInstruction &i = in.insn;
  Sym &sp = t.reg[kSp];
  const bool regDst = i.operand_count_visible > 0 && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER;
  const int dst = regDst ? gpr32(ops[0].reg.value) : -1;
  switch (i.mnemonic) {
  case ZYDIS_MNEMONIC_PUSH: {
    const Sym v = operandValue(t, ops[0]);
    sp.k -= 4;
    t.store(sp, v);
    return true;
  }
  case ZYDIS_MNEMONIC_POP:
    if (dst < 0 || dst == int(kSp))
      return false;
    t.reg[unsigned(dst)] = t.load(sp);
    sp.k += 4;
    return true;
  case ZYDIS_MNEMONIC_MOV:
  case ZYDIS_MNEMONIC_LEA:
    if (regDst && dst < 0)
      break;   // a partial or non-GPR destination: the generic rule below
    if (dst >= 0) {
      Sym v;
      if (i.mnemonic == ZYDIS_MNEMONIC_LEA) {
        if (auto a = traceAddress(t, ops[1]))
          v = *a;
      } else {
        v = operandValue(t, ops[1]);
      }
      if (dst == int(kSp) && !v.address())
        return false;
      t.reg[unsigned(dst)] = v;
      return true;
    }
    if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY) {
      if (auto a = traceAddress(t, ops[0]))
        t.store(*a, operandValue(t, ops[1]));
      return true;
    }
    return true;
  case ZYDIS_MNEMONIC_SUB:
  case ZYDIS_MNEMONIC_ADD:
    if (dst == int(kSp)) {
      if (ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
        return false;
      const int64_t n = ops[1].imm.value.s;
      sp.k += i.mnemonic == ZYDIS_MNEMONIC_ADD ? n : -n;
      return true;
    }
    break;
  case ZYDIS_MNEMONIC_AND:
    // Stack realignment: ESP's value is now only known through a copy of it.
    if (dst == int(kSp)) {
      if (sp.kind != Sym::Entry)
        return false;
      sp = {Sym::Aligned, 0, 0};
      return true;
    }
    break;
  case ZYDIS_MNEMONIC_CALL: {
    // `mov eax, N; call __chkstk`: the probe moves ESP down by EAX.
    const Sym &ax = t.reg[kAx];
    if (in.flow == code::Flow::Call && ax.kind == Sym::Constant && ax.k >= 0x1000 && ax.k < 0x10000000) {
      sp.k -= ax.k;
      t.reg[kAx] = {};
      return true;
    }
    return false;
  }
  default:
    break;
  }
  if (in.flow != code::Flow::Normal && in.flow != code::Flow::CondJump)
    return false;
  // Anything else: the registers it writes are no longer traced.
  for (unsigned n = 0; n < i.operand_count; ++n) {
    const ZydisDecodedOperand &op = ops[n];
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) {
      const int r = code::gprIndex(op.reg.value);   // any width: `mov cl, ...` changes ecx too
      if (r == int(kSp))
        return false;
      if (r >= 0)
        t.reg[unsigned(r)] = {};
    } else if (op.type == ZYDIS_OPERAND_TYPE_MEMORY && (op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) {
      if (auto a = traceAddress(t, op))
        t.store(*a, {});
    }
  }
  return true;
}

// The prolog traced from the function's start to the pc, through conditional
// jumps (their fall-through), stopping at the first call, jump or return.
Trace tracePrologTo(const image::Image &img, const code::Decoder &dec, uint32_t start, uint32_t pcRva) {
  Trace t;
  uint32_t rva = start;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  for (unsigned n = 0; n < kMaxPrologInstructions; ++n) {
    if (rva == pcRva) {
      t.reachedPc = true;
      break;
    }
    if (rva > pcRva)
      break;
    code::DecodedInsn in;
    if (!dec.decodeFull(img.bytesFromRva(rva), rva, in, ops) || !applyInstruction(t, in, ops))
      break;
    rva = in.next();
  }
  return t;
}

// The N of a `ret N` (the bytes popped after the return address), 0 for `ret`.
uint32_t returnImmediate(const code::DecodedInsn &in, const ZydisDecodedOperand *ops) {
  return in.insn.operand_count_visible > 0 && ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE
             ? uint32_t(ops[0].imm.value.u & 0xFFFF)
             : 0;
}

// The bytes the function's `ret N` pops besides the return address (stdcall
// arguments): the first return at or after the pc, before the chunk's end.
uint32_t returnPops(const image::Image &img, const code::Decoder &dec, uint32_t pcRva, uint32_t end) {
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  const uint32_t limit = end > pcRva ? end : pcRva + kMaxReturnSearch;
  for (uint32_t rva = pcRva; rva < limit && rva - pcRva < kMaxReturnSearch;) {
    code::DecodedInsn in;
    if (!dec.decodeFull(img.bytesFromRva(rva), rva, in, ops))
      return 0;
    if (in.flow == code::Flow::Return)
      return returnImmediate(in, ops);
    rva = in.next();
  }
  return 0;
}

// The registers of a real machine running the epilog.
class Emulator {
public:
  Emulator(const Registers &regs, const MemoryReader &memory) : regs_(regs), memory_(memory) {}

  // The epilog at the pc run to its return; nullopt when the code there is
  // not an epilog or reads what is not known.
  std::optional<UnwindStep> run(const image::Image &img, const code::Decoder &dec, uint64_t base) {
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    uint32_t rva = uint32_t(regs_.pc - base);
    for (unsigned n = 0; n < kMaxEpilogInstructions; ++n) {
      code::DecodedInsn in;
      if (!dec.decodeFull(img.bytesFromRva(rva), rva, in, ops))
        return std::nullopt;
      if (in.flow == code::Flow::Return)
        return ret(returnImmediate(in, ops));
      if (!execute(in.insn, ops))
        return std::nullopt;
      rva = in.next();
    }
    return std::nullopt;
  }

private:
  std::optional<uint64_t> reg(int r) const {
    if (r < 0 || !regs_.isKnown(unsigned(r)))
      return std::nullopt;
    return regs_.gpr[unsigned(r)];
  }
  std::optional<uint64_t> address(const ZydisDecodedOperand &op) const {
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.index != ZYDIS_REGISTER_NONE)
      return std::nullopt;
    auto b = reg(gpr32(op.mem.base));
    if (!b)
      return std::nullopt;
    return uint32_t(*b + uint64_t(op.mem.disp.has_displacement ? op.mem.disp.value : 0));
  }
  bool pop(unsigned r) {
    auto v = memory_.pointer(regs_.sp(), 4);
    if (!v)
      return false;
    restored_.push_back({uint8_t(r), regs_.sp()});
    const uint64_t sp = regs_.sp() + 4;
    regs_.set(r, *v);
    regs_.set(kSp, sp);
    return true;
  }
  bool execute(const ZydisDecodedInstruction &i, const ZydisDecodedOperand *ops) {
    const int dst = i.operand_count_visible > 0 && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER
                        ? gpr32(ops[0].reg.value)
                        : -1;
    switch (i.mnemonic) {
    case ZYDIS_MNEMONIC_POP:
      return dst >= 0 && dst != int(kSp) && pop(unsigned(dst));
    case ZYDIS_MNEMONIC_LEAVE: {
      auto bp = reg(int(kBp));
      if (!bp)
        return false;
      regs_.set(kSp, *bp);
      return pop(kBp);
    }
    case ZYDIS_MNEMONIC_ADD:
    case ZYDIS_MNEMONIC_SUB:
      if (dst != int(kSp) || ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
        return false;
      regs_.set(kSp, regs_.sp() + uint64_t(i.mnemonic == ZYDIS_MNEMONIC_ADD ? ops[1].imm.value.s : -ops[1].imm.value.s));
      return true;
    case ZYDIS_MNEMONIC_LEA:
      if (dst < 0)
        return false;
      if (auto a = address(ops[1])) {
        regs_.set(unsigned(dst), *a);
        return true;
      }
      return false;
    case ZYDIS_MNEMONIC_MOV:
      if (dst < 0)
        return false;
      if (ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
        auto v = reg(gpr32(ops[1].reg.value));
        if (!v)
          return false;
        regs_.set(unsigned(dst), *v);
        return true;
      }
      if (auto a = address(ops[1])) {
        auto v = memory_.pointer(*a, 4);
        if (!v)
          return false;
        regs_.set(unsigned(dst), *v);
        return true;
      }
      return false;
    default:
      return false;
    }
  }
  std::optional<UnwindStep> ret(uint32_t pops) {
    const uint64_t slot = regs_.sp();
    auto v = memory_.pointer(slot, 4);
    if (!v)
      return std::nullopt;
    UnwindStep s;
    s.how = StepHow::Epilog;
    s.caller = regs_;
    s.caller.pc = *v;
    s.caller.set(kSp, slot + 4 + pops);
    s.returnSlot = slot;
    forgetVolatiles(s.caller);
    s.restored = std::move(restored_);
    return s;
  }

  Registers regs_;
  const MemoryReader &memory_;
  std::vector<RestoredRegister> restored_;
};

// Where the trace's bases are at run time, from the registers at the pc.
struct Bases {
  std::optional<uint64_t> entry, aligned;
  std::optional<uint64_t> at(const Sym &s) const {
    const auto &b = s.kind == Sym::Entry ? entry : s.kind == Sym::Aligned ? aligned : std::nullopt;
    if (!b)
      return std::nullopt;
    return uint32_t(*b + uint64_t(s.k));
  }
};

// The entry ESP from a slot of the aligned frame holding a copy of it
// (`push ecx` after `lea ecx,[esp+4]`).
std::optional<uint64_t> entryFromAlignedSlot(const Trace &t, uint64_t aligned, const MemoryReader &memory) {
  for (const Slot &s : t.slots)
    if (s.where.kind == Sym::Aligned && s.value.kind == Sym::Entry)
      if (auto v = memory.pointer(uint32_t(aligned + uint64_t(s.where.k)), 4))
        return uint32_t(*v - uint64_t(s.value.k));
  return std::nullopt;
}

// The frame placed from a register whose traced value is s and whose value
// at run time is known: the entry ESP directly (s relative to the entry), or
// through the aligned frame's copy of it (s relative to the realigned ESP).
std::optional<Bases> placeFrom(const Trace &t, const Sym &s, uint64_t runtime, const MemoryReader &memory) {
  Bases b;
  if (s.kind == Sym::Entry) {
    b.entry = uint32_t(runtime - uint64_t(s.k));
  } else if (s.kind == Sym::Aligned) {
    b.aligned = uint32_t(runtime - uint64_t(s.k));
    b.entry = entryFromAlignedSlot(t, *b.aligned, memory);
  }
  if (!b.entry)
    return std::nullopt;
  return b;
}

// The ways the trace can place the frame, best first: at the pc itself the
// trace's ESP is exact; past it, EBP stays put while the body pushes
// arguments, so EBP comes first.
std::vector<std::pair<Bases, StepHow>> placements(const Trace &t, const Registers &regs, const MemoryReader &memory,
                                                   int64_t pending) {
  std::vector<std::pair<Bases, StepHow>> out;
  auto fromSp = [&] {
    const Sym &sp = t.reg[kSp];
    const bool leaf = t.reachedPc && sp.kind == Sym::Entry && sp.k == 0;
    if (auto b = placeFrom(t, sp, regs.sp() + uint64_t(pending), memory))
      out.push_back({*b, leaf ? StepHow::Leaf : StepHow::Unwind});
  };
  auto fromBp = [&] {
    if (regs.isKnown(kBp))
      if (auto b = placeFrom(t, t.reg[kBp], regs.gpr[kBp], memory))
        out.push_back({*b, StepHow::FramePointer});
  };
  if (t.reachedPc) {
    fromSp();
    fromBp();
  } else {
    fromBp();
    fromSp();
  }
  return out;
}

// The caller's registers with the frame placed: the return address at the
// entry ESP, the registers the prolog pushed read back from their slots.
std::optional<UnwindStep> placeFrame(const Trace &t, const Bases &b, StepHow how, const Registers &regs,
                                     const MemoryReader &memory, uint32_t pops) {
  auto ret = memory.pointer(*b.entry, 4);
  if (!ret)
    return std::nullopt;
  UnwindStep s;
  s.how = how;
  s.caller = regs;
  s.caller.pc = *ret;
  s.caller.set(kSp, uint32_t(*b.entry + 4 + pops));
  s.returnSlot = *b.entry;
  for (unsigned r = 0; r < 8; ++r) {
    if (r == kSp || !isNonvolatile(Arch::X86, r))
      continue;
    // The last slot the prolog saved r's entry value to.
    const Slot *saved = nullptr;
    for (const Slot &sl : t.slots)
      if (sl.value.kind == Sym::Original && sl.value.reg == r)
        saved = &sl;
    if (!saved)
      continue;   // not saved, so not changed (the ABI): the caller's value is the current one
    auto at = b.at(saved->where);
    auto v = at ? memory.pointer(*at, 4) : std::nullopt;
    if (!v) {
      s.caller.forget(r);
      continue;
    }
    s.caller.set(r, *v);
    s.restored.push_back({uint8_t(r), *at});
  }
  forgetVolatiles(s.caller);
  return s;
}

// The bytes a caller's `add esp, N` (cdecl arguments still on the stack
// after the call) or `sub esp, N` (GCC reserving again what a stdcall callee
// popped) changes at the return address.
int64_t pendingAtReturn(const image::Image &img, const code::Decoder &dec, uint32_t rva) {
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  code::DecodedInsn in;
  if (!dec.decodeFull(img.bytesFromRva(rva), rva, in, ops) || in.insn.operand_count_visible < 2 ||
      ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER || gpr32(ops[0].reg.value) != int(kSp) ||
      ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
    return 0;
  if (in.insn.mnemonic == ZYDIS_MNEMONIC_ADD)
    return ops[1].imm.value.s;
  if (in.insn.mnemonic == ZYDIS_MNEMONIC_SUB)
    return -ops[1].imm.value.s;
  return 0;
}

} // namespace

std::optional<UnwindStep> framePointerStepX86(const Registers &regs, const MemoryReader &memory) {
  if (!regs.isKnown(kBp) || regs.gpr[kBp] < regs.sp())
    return std::nullopt;
  const uint64_t bp = regs.gpr[kBp];
  auto saved = memory.pointer(bp, 4);
  auto ret = memory.pointer(bp + 4, 4);
  if (!saved || !ret)
    return std::nullopt;
  UnwindStep s;
  s.how = StepHow::FramePointer;
  s.caller = regs;
  s.caller.pc = *ret;
  s.caller.set(kBp, *saved);
  s.caller.set(kSp, bp + 8);
  s.returnSlot = bp + 4;
  s.restored.push_back({uint8_t(kBp), bp});
  forgetVolatiles(s.caller);
  return s;
}

StepResult unwindX86(const UnwindModule &module, const FunctionAt &functionAt, const Registers &regs,
                     const MemoryReader &memory, bool topFrame, const ReturnCheck &plausible) {
  StepResult result;
  if (!module.image || !module.decoder || regs.pc < module.base || regs.pc - module.base >= module.image->imageSize()) {
    result.error = "the pc is outside the module";
    return result;
  }
  const image::Image &img = *module.image;
  const code::Decoder &dec = *module.decoder;
  const uint32_t pcRva = uint32_t(regs.pc - module.base);
  auto accept = [&](std::optional<UnwindStep> s) {
    if (s && plausible(s->caller.pc, regs.pc)) {
      result.step = std::move(s);
      return true;
    }
    return false;
  };
  if (accept(Emulator(regs, memory).run(img, dec, module.base)))
    return result;
  if (module.frameData)
    if (const pdb::FrameRecord *record = frameRecordFor(*module.frameData, pcRva))
      if (auto s = runFrameProgram(*record, regs, memory, plausible)) {
        // The program's $esp is the caller's before a stdcall `ret N` pops
        // the arguments; the walk's is after it.
        const uint32_t end = record->rva + record->size;
        s->caller.set(kSp, s->caller.sp() + returnPops(img, dec, pcRva, end));
        if (accept(std::move(s)))
          return result;
      }
  const std::optional<CodeRange> function = functionAt();
  if (!function || function->begin > pcRva) {
    result.noUnwindData = true;
    result.error = "no function is known at the pc";
    return result;
  }
  const Trace t = tracePrologTo(img, dec, function->begin, pcRva);
  const uint32_t pops = returnPops(img, dec, pcRva, function->end);
  // The arguments a cdecl caller has not popped yet at the return address;
  // without them if that places nothing.
  const int64_t pending = topFrame || t.reachedPc ? 0 : pendingAtReturn(img, dec, pcRva);
  for (int64_t p : pending ? std::vector<int64_t>{pending, 0} : std::vector<int64_t>{0})
    for (const auto &[bases, how] : placements(t, regs, memory, p))
      if (accept(placeFrame(t, bases, how, regs, memory, pops)))
        return result;
  result.error = "the function's prolog places no return address that follows a call";
  return result;
}

} // namespace sb::dump
