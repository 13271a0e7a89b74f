#include "values/Tracker.h"

#include "code/ZydisRegisters.h"

#include <bit>
#include <span>

#include <algorithm>
#include <deque>
#include <unordered_map>

namespace sb::values {
namespace {

using code::gprIndex;

// 0..31 for XMM/YMM/ZMM registers, -1 otherwise.
int xmmIndex(ZydisRegister r) {
  if (r >= ZYDIS_REGISTER_XMM0 && r <= ZYDIS_REGISTER_XMM31)
    return int(r - ZYDIS_REGISTER_XMM0);
  if (r >= ZYDIS_REGISTER_YMM0 && r <= ZYDIS_REGISTER_YMM31)
    return int(r - ZYDIS_REGISTER_YMM0);
  return -1;
}

bool isWide(ZydisRegister r) {
  ZydisRegisterClass c = ZydisRegisterGetClass(r);
  return c == ZYDIS_REGCLASS_GPR64 || c == ZYDIS_REGCLASS_GPR32;
}

// Frames that zero large locals (a 520-byte path buffer, OPENFILENAME and
// PROPSHEETPAGE structures) keep several hundred slots.
constexpr size_t kMaxSlots = 512;

} // namespace

Value State::reg(ZydisRegister r) const {
  int i = gprIndex(r);
  if (i < 0)
    return {};
  if (!isWide(r)) {
    // A byte or word register: constants narrow; a parameter keeps its
    // identity (`test dl, 1` tests parameter 1).
    if (regs_[i].isConst())
      return Value::constant(regs_[i].off & (ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r) == 8 ? 0xff : 0xffff));
    return regs_[i].kind == Kind::Param && regs_[i].off == 0 ? regs_[i] : Value{};
  }
  return regs_[i];
}

void State::setReg(ZydisRegister r, const Value &v) {
  int i = gprIndex(r);
  if (i >= 0)
    regs_[i] = v;
}

Value State::slot(int64_t off, bool is64) const {
  auto it = std::lower_bound(slots_.begin(), slots_.end(), off, [](const StackSlot &p, int64_t o) { return p.off < o; });
  if (it != slots_.end() && it->off == off)
    return it->value;
  if (entryFrame_) {
    if (is64 && off >= 0x28 && off % 8 == 0)
      return Value::param(uint32_t(4 + (off - 0x28) / 8));
    if (!is64 && off >= 4 && off % 4 == 0)
      return Value::param(uint32_t((off - 4) / 4));
  }
  return {};
}

Value State::field(int64_t off, unsigned size, bool is64) const {
  auto it = std::lower_bound(slots_.begin(), slots_.end(), off, [](const StackSlot &p, int64_t o) { return p.off < o; });
  if (it != slots_.end() && it->off == off) {
    if (size < it->size && it->value.isConst() && size < 8)
      return Value::constant(it->value.off & ((int64_t(1) << (8 * size)) - 1));
    return it->value;
  }
  if (it != slots_.begin()) {
    const StackSlot &below = *std::prev(it);
    if (below.off + int64_t(below.size) >= off + int64_t(size) && below.value.isConst() && size <= 4)
      return Value::constant((uint64_t(below.value.off) >> (8 * (off - below.off))) & ((uint64_t(1) << (8 * size)) - 1));
    if (below.off + int64_t(below.size) > off)
      return {};
  }
  return slot(off, is64);
}

void State::setSlot(int64_t off, const Value &v, unsigned size) {
  // A constant partly overwritten keeps its other bytes (a zeroed structure
  // whose first field is then set).
  std::vector<StackSlot> rest;
  for (const StackSlot &p : slots_) {
    if (!(p.off < off + int64_t(size) && p.off + int64_t(p.size) > off) || !p.value.isConst() || p.size > 8)
      continue;
    uint64_t bits = uint64_t(p.value.off);
    for (int64_t b = p.off; b < p.off + int64_t(p.size);) {
      if (b >= off && b < off + int64_t(size)) {
        b = off + size;
        continue;
      }
      int64_t end = b < off ? std::min<int64_t>(off, p.off + p.size) : p.off + p.size;
      unsigned n = unsigned(end - b);
      uint64_t piece = (bits >> (8 * (b - p.off))) & (n >= 8 ? ~0ull : ((1ull << (8 * n)) - 1));
      rest.push_back({b, Value::constant(int64_t(piece)), n});
      b = end;
    }
  }
  forgetSlots(off, off + size);
  for (const StackSlot &r : rest)
    if (slots_.size() < kMaxSlots)
      slots_.insert(std::lower_bound(slots_.begin(), slots_.end(), r.off,
                                     [](const StackSlot &p, int64_t o) { return p.off < o; }),
                    r);
  if (slots_.size() >= kMaxSlots)
    return;
  auto it = std::lower_bound(slots_.begin(), slots_.end(), off, [](const StackSlot &p, int64_t o) { return p.off < o; });
  slots_.insert(it, StackSlot{off, v, size});
}

void State::forgetSlots(int64_t from, int64_t to) {
  std::erase_if(slots_, [&](const StackSlot &p) { return p.off < to && p.off + int64_t(p.size) > from; });
}

bool State::join(const State &o, uint32_t blockRva) {
  if (!o.reachable_)
    return false;
  if (!reachable_) {
    *this = o;
    return true;
  }
  bool changed = false;
  for (size_t i = 0; i < regs_.size(); ++i) {
    // Compilers keep the stack pointer the same on every path into a block;
    // when our models of two paths disagree (a callee's pops guessed wrong),
    // the first path's stays rather than losing the frame.
    if (i == 4 && regs_[i].kind == Kind::Stack && o.regs_[i].kind == Kind::Stack)
      continue;
    Value phi = Value::opaque(blockRva);
    phi.base = uint32_t(i + 1);
    if (regs_[i].known() && !(regs_[i] == o.regs_[i]) && !(regs_[i] == phi)) {
      regs_[i] = phi;
      changed = true;
    }
  }
  // Slots both paths agree on stay (in place: joins are the tracker's hot path).
  const size_t before = slots_.size();
  std::erase_if(slots_, [&](const StackSlot &p) {
    auto it = std::lower_bound(o.slots_.begin(), o.slots_.end(), p.off,
                               [](const StackSlot &q, int64_t off) { return q.off < off; });
    return it == o.slots_.end() || !(*it == p);
  });
  if (slots_.size() != before)
    changed = true;
  if ((zeroXmm_ & o.zeroXmm_) != zeroXmm_) {
    zeroXmm_ &= o.zeroXmm_;
    changed = true;
  }
  for (size_t i = 0; i < xmmImage_.size(); ++i)
    if (xmmImage_[i] && xmmImage_[i] != o.xmmImage_[i]) {
      xmmImage_[i] = 0;
      changed = true;
    }
  if (entryFrame_ && !o.entryFrame_) {
    entryFrame_ = false;
    changed = true;
  }
  if (pushedSinceCall_ != o.pushedSinceCall_ && pushedSinceCall_ != -1) {
    pushedSinceCall_ = -1;
    changed = true;
  }
  return changed;
}

Tracker::Tracker(const image::Image &img, const code::Decoder &dec, const code::Function &f, unsigned maxBlockVisits,
                 const CallEffects *effects)
    : img_(img), dec_(dec), f_(f), is64_(img.is64()), maxVisits_(maxBlockVisits), effects_(effects) {
  run();
}

Value Tracker::address(const State &s, const Insn &in, const ZydisDecodedOperand &mem) const {
  if (mem.type != ZYDIS_OPERAND_TYPE_MEMORY)
    return {};
  int64_t disp = mem.mem.disp.has_displacement ? mem.mem.disp.value : 0;
  if (mem.mem.segment == ZYDIS_REGISTER_FS || mem.mem.segment == ZYDIS_REGISTER_GS)
    return Value::opaque(in.rva);   // TEB-relative
  if (mem.mem.base == ZYDIS_REGISTER_RIP)
    return Value::image(uint32_t(int64_t(in.next()) + disp));
  Value v;
  if (mem.mem.base == ZYDIS_REGISTER_NONE) {
    if (auto rva = img_.vaToRva(uint64_t(disp) & (is64_ ? ~0ull : 0xffffffffull)))
      v = Value::image(*rva);
    else
      v = Value::constant(disp);
    disp = 0;
  } else {
    v = s.reg(mem.mem.base);
  }
  if (mem.mem.index != ZYDIS_REGISTER_NONE) {
    Value idx = s.reg(mem.mem.index);
    if (!idx.isConst())
      return {};
    disp = int64_t(uint64_t(disp) + uint64_t(idx.off) * (mem.mem.scale ? mem.mem.scale : 1));
  }
  return v.plus(disp);
}

// Data the loader does not change and the program cannot: read-only,
// not code, not an IAT slot (an import's address is not ours).
bool Tracker::isConstantData(uint32_t rva) const {
  const image::Section *sec = img_.sectionFor(rva);
  return sec && !sec->writable && !sec->executable && !img_.isImportSlot(rva);
}

// A pointer in read-only data (a `const` global, mingw's .refptr slots): the
// address it holds, when the loader relocates it and it points into the
// image.
std::optional<uint32_t> Tracker::constantPointer(uint32_t rva) const {
  if (!isConstantData(rva) || !img_.mayHoldAddress(rva))
    return std::nullopt;
  auto va = img_.readPointer(rva);
  if (!va || *va < img_.imageBase())
    return std::nullopt;
  auto target = img_.vaToRva(*va);
  return target && img_.sectionFor(*target) ? target : std::nullopt;
}

// What a load of `size` bytes from read-only data gives: the address a
// relocated pointer holds, or the number stored where nothing is relocated
// (a constant the compiler put in .rdata).
std::optional<Value> Tracker::constantData(uint32_t rva, unsigned size) const {
  if (size == (is64_ ? 8u : 4u))
    if (auto p = constantPointer(rva))
      return Value::image(*p);
  if ((size != 4 && size != 8) || !isConstantData(rva) || img_.mayHoldAddress(rva) ||
      (size == 8 && img_.mayHoldAddress(rva + 4)))
    return std::nullopt;
  auto v = size == 8 ? img_.readRva<uint64_t>(rva) : std::optional<uint64_t>(img_.readRva<uint32_t>(rva));
  if (!v)
    return std::nullopt;
  return Value::constant(int64_t(*v));
}

Value Tracker::read(const State &s, const Insn &in, const ZydisDecodedOperand &op) const {
  switch (op.type) {
  case ZYDIS_OPERAND_TYPE_REGISTER: return s.reg(op.reg.value);
  case ZYDIS_OPERAND_TYPE_IMMEDIATE: {
    int64_t v = op.imm.is_signed ? op.imm.value.s : int64_t(op.imm.value.u);
    if (!is64_ && op.size >= 32)
      if (auto rva = img_.vaToRva(uint32_t(v)); rva && img_.mayHoldAddress(in.next() - 4))
        return Value::image(*rva);
    return Value::constant(v);
  }
  case ZYDIS_OPERAND_TYPE_MEMORY: {
    Value a = address(s, in, op);
    if (a.kind == Kind::Stack)
      return s.slot(a.off, is64_);
    if (op.size != (is64_ ? 64 : 32) && !(is64_ && op.size == 32))
      return Value::opaque(in.rva);
    if (a.isImage())
      if (auto c = constantData(a.base + uint32_t(a.off), unsigned(op.size / 8)))
        return *c;
    return Value::loadFrom(a, in.rva);
  }
  default: return {};
  }
}

Value Tracker::argument(const State &s, unsigned index, bool tailJump) const {
  // A tail jump's stack arguments sit one return address higher than a call's.
  const int64_t above = tailJump ? (is64_ ? 8 : 4) : 0;
  if (is64_) {
    static const ZydisRegister regs[] = {ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_R8, ZYDIS_REGISTER_R9};
    if (index < 4)
      return s.reg(regs[index]);
    Value sp = s.sp();
    return sp.kind == Kind::Stack ? s.slot(sp.off + above + 0x20 + 8 * int64_t(index - 4), true) : Value{};
  }
  Value sp = s.sp();
  return sp.kind == Kind::Stack ? s.slot(sp.off + above + 4 * int64_t(index), false) : Value{};
}

Value Tracker::thisArgument(const State &s) const { return s.reg(ZYDIS_REGISTER_RCX); }

// `mov eax, N; call __chkstk; sub rsp, rax` (MSVC x64 and MinGW's
// ___chkstk_ms, also `sub esp, eax` on x86): the probe touches the new stack
// pages and preserves every register, so the call changes nothing the
// caller sees. (MSVC's x86 _chkstk moves ESP itself and is not this shape.)
bool Tracker::isStackProbe(const Insn &in, const State &s) const {
  // `mov eax, N; call __chkstk; sub rsp, rax`: MSVC probes small frames too
  // when told to (/Gs<size>, checked builds), so any positive N.
  Value rax = s.reg(ZYDIS_REGISTER_RAX);
  if (!rax.isConst() || rax.off <= 0 || rax.off >= 0x1000000)
    return false;
  ZydisDecodedInstruction next;
  ZydisDecodedOperand nops[ZYDIS_MAX_OPERAND_COUNT];
  const ZydisRegister sp = is64_ ? ZYDIS_REGISTER_RSP : ZYDIS_REGISTER_ESP, ax = is64_ ? ZYDIS_REGISTER_RAX : ZYDIS_REGISTER_EAX;
  return dec_.decodeFull(img_.bytesFromRva(in.next()), in.next(), next, nops) && next.mnemonic == ZYDIS_MNEMONIC_SUB &&
         nops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && nops[0].reg.value == sp &&
         nops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && nops[1].reg.value == ax;
}

void Tracker::call(const Insn &in, State &s) const {
  uint32_t callee = 0;
  const ZydisDecodedOperand &op = in.ops[0];
  if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
    callee = uint32_t(int64_t(in.next()) + op.imm.value.s);
  else if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
    Value a = address(s, in, op);
    if (a.isImage())
      callee = a.base + uint32_t(a.off);
  } else if (op.type == ZYDIS_OPERAND_TYPE_REGISTER) {
    // `mov rsi, [__imp_X]; call rsi`: the IAT slot the register was loaded from.
    Value r = s.reg(op.reg.value);
    if (r.kind == Kind::Load && r.addrKind == Kind::Image && r.off == 0)
      callee = r.base + uint32_t(r.addrOff);
  }
  if (isStackProbe(in, s))
    return;
  if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && in.rva == s.cookieCheckAt_) {
    s.setReg(is64_ ? ZYDIS_REGISTER_RCX : ZYDIS_REGISTER_ECX, {});
    return;   // __security_check_cookie: RAX (the function's result) survives it
  }
  // The volatile registers but the result's, unless the callee is known to
  // leave them alone.
  static const ZydisRegister volatile64[] = {ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_R8,
                                             ZYDIS_REGISTER_R9, ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11};
  static const ZydisRegister volatile32[] = {ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_EDX};
  const uint32_t kept = effects_ && callee && op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? effects_->registersKept(callee) : 0;
  for (ZydisRegister r : is64_ ? std::span<const ZydisRegister>(volatile64) : std::span<const ZydisRegister>(volatile32))
    if (!(kept >> code::gprIndex(r) & 1))
      s.setReg(r, {});
  if (is64_) {
    // The callee owns its home area.
    if (Value sp = s.sp(); sp.kind == Kind::Stack)
      s.forgetSlots(sp.off, sp.off + 0x20);
  } else {
    // The arguments the callee pops.
    std::optional<int> pops;
    if (effects_ && callee)
      pops = effects_->stackBytesPopped(callee, op.type != ZYDIS_OPERAND_TYPE_IMMEDIATE);
    if (!pops) {
      // Unknown: `add esp, N` next says cdecl; `sub esp, N` next (GCC
      // re-reserving its argument area) says the callee popped N; else
      // what was pushed for it.
      ZydisDecodedInstruction next;
      ZydisDecodedOperand nops[ZYDIS_MAX_OPERAND_COUNT];
      bool espNext = dec_.decodeFull(img_.bytesFromRva(in.next()), in.next(), next, nops) &&
                     nops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && nops[0].reg.value == ZYDIS_REGISTER_ESP &&
                     nops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE;
      if (espNext && next.mnemonic == ZYDIS_MNEMONIC_ADD)
        pops = 0;
      else if (espNext && next.mnemonic == ZYDIS_MNEMONIC_SUB && nops[1].imm.value.u < 0x100)
        pops = int(nops[1].imm.value.u);
      else
        pops = std::max(0, s.pushedSinceCall_);
    }
    if (*pops > 0 && *pops < 0x1000)
      s.setReg(ZYDIS_REGISTER_ESP, s.sp().plus(*pops));
    s.pushedSinceCall_ = 0;
    if (effects_ && callee && op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && s.entryFrame_ && effects_->isFrameHelper(callee)) {
      s.setReg(ZYDIS_REGISTER_EBP, Value::stack(-4));
      s.setReg(ZYDIS_REGISTER_ESP, Value::stack(-0x10));
    }
  }
  s.setReg(ZYDIS_REGISTER_RAX, Value::returned(callee, in.rva));
}

void Tracker::transfer(const Insn &in, State &s) const {
  const ZydisDecodedInstruction &d = *in.insn;
  const ZydisDecodedOperand *ops = in.ops;
  const unsigned n = d.operand_count_visible;
  const int64_t ptr = is64_ ? 8 : 4;
  auto dstReg = [&]() -> ZydisRegister {
    return n > 0 && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER ? ops[0].reg.value : ZYDIS_REGISTER_NONE;
  };
  auto writeMem = [&](const ZydisDecodedOperand &mem, const Value &v) {
    Value a = address(s, in, mem);
    if (a.kind != Kind::Stack)
      return;
    if (mem.size == ptr * 8 || (mem.size == 32 && v.isConst()))
      s.setSlot(a.off, v, unsigned(mem.size / 8));
    else if ((mem.size == 16 || mem.size == 8) && v.isConst())
      s.setSlot(a.off, v, unsigned(mem.size / 8));
    else
      s.forgetSlots(a.off, a.off + std::max<int64_t>(1, mem.size / 8));
  };
  auto setDst = [&](const Value &v) {
    ZydisRegister r = dstReg();
    if (r == ZYDIS_REGISTER_NONE)
      return;
    s.setReg(r, isWide(r) ? v : Value::opaque(in.rva));
  };
  // add, sub, and, or, xor of two constants.
  if (auto folded = foldConstants(s, in)) {
    setDst(*folded);
    return;
  }
  switch (d.mnemonic) {
  case ZYDIS_MNEMONIC_MOV:
    if (n < 2)
      break;
    if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY)
      writeMem(ops[0], read(s, in, ops[1]));
    else
      setDst(read(s, in, ops[1]));
    return;
  case ZYDIS_MNEMONIC_LEA:
    setDst(address(s, in, ops[1]));
    return;
  case ZYDIS_MNEMONIC_ADD:
  case ZYDIS_MNEMONIC_SUB:
    if (dstReg() != ZYDIS_REGISTER_NONE && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
      int64_t imm = ops[1].imm.value.s;
      Value v = s.reg(dstReg());
      setDst(v.kind == Kind::Unknown ? Value{} : v.plus(d.mnemonic == ZYDIS_MNEMONIC_ADD ? imm : int64_t(0 - uint64_t(imm))));
      return;
    }
    if (d.mnemonic == ZYDIS_MNEMONIC_SUB && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        dstReg() == ops[1].reg.value) {
      setDst(Value::constant(0));
      return;
    }
    // `sub rsp, rax` after a stack probe: a register holding a constant
    // moves a pointer like an immediate.
    if (dstReg() != ZYDIS_REGISTER_NONE && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && isWide(dstReg())) {
      Value by = s.reg(ops[1].reg.value), v = s.reg(dstReg());
      if (by.isConst() && v.known() && !v.isConst()) {
        setDst(v.plus(d.mnemonic == ZYDIS_MNEMONIC_ADD ? by.off : int64_t(0 - uint64_t(by.off))));
        return;
      }
    }
    break;
  case ZYDIS_MNEMONIC_INC:
  case ZYDIS_MNEMONIC_DEC:
    if (dstReg() != ZYDIS_REGISTER_NONE && isWide(dstReg())) {
      Value v = s.reg(dstReg());
      setDst(v.kind == Kind::Unknown ? Value{} : v.plus(d.mnemonic == ZYDIS_MNEMONIC_INC ? 1 : -1));
      return;
    }
    break;
  case ZYDIS_MNEMONIC_AND:
    // Stack realignment keeps the stack pointer usable for slots.
    if (dstReg() != ZYDIS_REGISTER_NONE && gprIndex(dstReg()) == 4)
      return;
    break;
  case ZYDIS_MNEMONIC_XOR:
    if (n >= 2 && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        ops[0].reg.value == ops[1].reg.value) {
      setDst(Value::constant(0));
      return;
    }
    // `mov rcx, [frame cookie]; xor rcx, rsp` (x86: `xor ecx, ebp`) sets up
    // the call of __security_check_cookie, which returns only when the
    // cookie is intact and then has changed no register but its argument.
    if (n >= 2 && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        (ops[0].reg.value == ZYDIS_REGISTER_RCX || ops[0].reg.value == ZYDIS_REGISTER_ECX) &&
        (ops[1].reg.value == ZYDIS_REGISTER_RSP || ops[1].reg.value == ZYDIS_REGISTER_RBP ||
         ops[1].reg.value == ZYDIS_REGISTER_ESP || ops[1].reg.value == ZYDIS_REGISTER_EBP)) {
      setDst(Value::opaque(in.rva));
      s.cookieCheckAt_ = in.next();
      return;
    }
    break;
  case ZYDIS_MNEMONIC_PUSH: {
    Value v = read(s, in, ops[0]);
    Value sp = s.sp().plus(-ptr);
    if (s.pushedSinceCall_ >= 0)
      s.pushedSinceCall_ += int32_t(ptr);
    s.setReg(is64_ ? ZYDIS_REGISTER_RSP : ZYDIS_REGISTER_ESP, sp);
    if (sp.kind == Kind::Stack)
      s.setSlot(sp.off, v, unsigned(ptr));
    return;
  }
  case ZYDIS_MNEMONIC_POP: {
    Value sp = s.sp();
    Value v = sp.kind == Kind::Stack ? s.slot(sp.off, is64_) : Value{};
    s.setReg(is64_ ? ZYDIS_REGISTER_RSP : ZYDIS_REGISTER_ESP, sp.plus(ptr));
    if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER)
      s.setReg(ops[0].reg.value, v);
    else
      writeMem(ops[0], v);
    return;
  }
  case ZYDIS_MNEMONIC_LEAVE: {
    Value bp = s.reg(is64_ ? ZYDIS_REGISTER_RBP : ZYDIS_REGISTER_EBP);
    Value v = bp.kind == Kind::Stack ? s.slot(bp.off, is64_) : Value{};
    s.setReg(is64_ ? ZYDIS_REGISTER_RSP : ZYDIS_REGISTER_ESP, bp.plus(ptr));
    s.setReg(is64_ ? ZYDIS_REGISTER_RBP : ZYDIS_REGISTER_EBP, v);
    return;
  }
  case ZYDIS_MNEMONIC_CALL:
    call(in, s);
    return;
  case ZYDIS_MNEMONIC_XCHG:
    if (n >= 2 && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
      Value a = s.reg(ops[0].reg.value), b = s.reg(ops[1].reg.value);
      s.setReg(ops[0].reg.value, b);
      s.setReg(ops[1].reg.value, a);
      return;
    }
    break;
  case ZYDIS_MNEMONIC_MOVZX:
  case ZYDIS_MNEMONIC_MOVSX:
  case ZYDIS_MNEMONIC_MOVSXD:
    if (n >= 2 && ops[1].type != ZYDIS_OPERAND_TYPE_MEMORY) {
      Value v = read(s, in, ops[1]);
      setDst(v.isConst() ? v : (v.kind == Kind::Param ? v : Value::opaque(in.rva)));
      return;
    }
    break;
  case ZYDIS_MNEMONIC_XORPS:
  case ZYDIS_MNEMONIC_XORPD:
  case ZYDIS_MNEMONIC_PXOR:
  case ZYDIS_MNEMONIC_VXORPS:
  case ZYDIS_MNEMONIC_VPXOR:
    if (n >= 2 && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[n - 1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        ops[0].reg.value == ops[n - 1].reg.value && xmmIndex(ops[0].reg.value) >= 0) {
      s.zeroXmm_ |= 1u << xmmIndex(ops[0].reg.value);
      s.xmmImage_[size_t(xmmIndex(ops[0].reg.value))] = 0;
      return;
    }
    break;
  case ZYDIS_MNEMONIC_MOVUPS:
  case ZYDIS_MNEMONIC_MOVAPS:
  case ZYDIS_MNEMONIC_MOVDQU:
  case ZYDIS_MNEMONIC_MOVDQA:
  case ZYDIS_MNEMONIC_MOVQ:
  case ZYDIS_MNEMONIC_MOVSD:
  case ZYDIS_MNEMONIC_VMOVUPS:
  case ZYDIS_MNEMONIC_VMOVDQU:
    // Zeroing a structure on the stack: `xorps xmm0, xmm0; movups [rsp+x], xmm0`;
    // copying constant data there (a local string: `movups xmm0, [rdata];
    // movups [rsp+x], xmm0`).
    if (n >= 2 && ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
      Value a = address(s, in, ops[0]);
      int x = xmmIndex(ops[1].reg.value);
      if (a.kind == Kind::Stack) {
        int64_t bytes = ops[0].size / 8;
        s.forgetSlots(a.off, a.off + bytes);
        if (x >= 0 && (s.zeroXmm_ >> x & 1))
          for (int64_t k = 0; k < bytes; k += ptr)
            s.setSlot(a.off + k, Value::constant(0), unsigned(std::min<int64_t>(ptr, bytes - k)));
        else if (x >= 0 && s.xmmImage_[x])
          for (int64_t k = 0; k + ptr <= bytes; k += ptr)
            if (auto v = img_.readPointer(s.xmmImage_[x] + uint32_t(k)))
              s.setSlot(a.off + k, Value::constant(int64_t(*v)), unsigned(ptr));
      }
      return;
    }
    if (n >= 2 && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY &&
        (ops[1].size == 128 || ops[1].size == 64)) {
      int x = xmmIndex(ops[0].reg.value);
      Value a = address(s, in, ops[1]);
      const image::Section *sec = a.isImage() ? img_.sectionFor(a.base + uint32_t(a.off)) : nullptr;
      if (x >= 0) {
        s.zeroXmm_ &= ~(1u << x);
        s.xmmImage_[x] = sec && !sec->writable ? a.base + uint32_t(a.off) : 0;
        return;
      }
    }
    break;
  default: break;
  }
  // Anything else: every written register becomes a value of its own, and
  // written stack memory is forgotten.
  for (unsigned i = 0; i < d.operand_count; ++i) {
    const ZydisDecodedOperand &op = ops[i];
    if (!(op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
      continue;
    if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && xmmIndex(op.reg.value) >= 0) {
      s.zeroXmm_ &= ~(1u << xmmIndex(op.reg.value));
      s.xmmImage_[size_t(xmmIndex(op.reg.value))] = 0;
    } else if (op.type == ZYDIS_OPERAND_TYPE_REGISTER && gprIndex(op.reg.value) >= 0) {
      if (gprIndex(op.reg.value) == 4)
        continue;   // implicit stack pointer updates are handled above
      s.setReg(op.reg.value, Value::opaque(in.rva));
    } else if (op.type == ZYDIS_OPERAND_TYPE_MEMORY) {
      writeMem(op, Value::opaque(in.rva));
    }
  }
}

void Tracker::run() {
  const auto &blocks = f_.blocks;
  in_.assign(blocks.size(), State{});
  if (blocks.empty())
    return;
  std::unordered_map<uint32_t, size_t> index;
  index.reserve(blocks.size());
  std::vector<bool> hasPred(blocks.size(), false);
  for (size_t i = 0; i < blocks.size(); ++i)
    index.emplace(blocks[i].rva, i);
  for (const auto &b : blocks)
    for (uint32_t s : b.successors)
      if (auto it = index.find(s); it != index.end())
        hasPred[it->second] = true;
  // The entry block, then (for funclets and other fragments nothing branches
  // to) every block without a predecessor, starting from an unknown frame.
  std::deque<size_t> work;
  for (size_t i = 0; i < blocks.size(); ++i) {
    bool entry = blocks[i].rva == f_.rva;
    if (!entry && hasPred[i])
      continue;
    State &st = in_[i];
    st.reachable_ = true;
    st.entryFrame_ = entry;
    st.regs_[4] = Value::stack(0);
    if (entry) {
      if (is64_) {
        st.setReg(ZYDIS_REGISTER_RCX, Value::param(0));
        st.setReg(ZYDIS_REGISTER_RDX, Value::param(1));
        st.setReg(ZYDIS_REGISTER_R8, Value::param(2));
        st.setReg(ZYDIS_REGISTER_R9, Value::param(3));
      } else {
        st.setReg(ZYDIS_REGISTER_ECX, Value::param(kParamEcx));
        st.setReg(ZYDIS_REGISTER_EDX, Value::param(kParamEdx));
        st.setReg(ZYDIS_REGISTER_EAX, Value::param(kParamEax));
      }
      for (uint32_t r = 0; r < (is64_ ? 16u : 8u); ++r)
        if (code::isNonVolatile(int(r), is64_))
          st.regs_[r] = Value::entry(r);
    }
    work.push_back(i);
  }
  std::vector<unsigned> visits(blocks.size(), 0);
  ZydisDecodedInstruction d;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  while (!work.empty()) {
    size_t bi = work.front();
    work.pop_front();
    if (++visits[bi] > maxVisits_) {
      truncated_ = true;
      continue;
    }
    State s = in_[bi];
    const auto &b = blocks[bi];
    for (uint32_t pc = b.rva; pc < b.end;) {
      if (!dec_.decodeFull(img_.bytesFromRva(pc), pc, d, ops))
        break;
      transfer(Insn{pc, &d, ops}, s);
      pc += d.length;
    }
    for (uint32_t succ : b.successors) {
      auto it = index.find(succ);
      if (it == index.end())
        continue;
      if (in_[it->second].join(s, succ) && std::find(work.begin(), work.end(), it->second) == work.end())
        work.push_back(it->second);
    }
  }
}

// `op reg, x` of two constants (32-bit results zero-extend, as the CPU does).
std::optional<Value> Tracker::foldConstants(const State &s, const Insn &in) const {
  const ZydisMnemonic m = in.insn->mnemonic;
  if (m != ZYDIS_MNEMONIC_ADD && m != ZYDIS_MNEMONIC_SUB && m != ZYDIS_MNEMONIC_AND && m != ZYDIS_MNEMONIC_OR &&
      m != ZYDIS_MNEMONIC_XOR)
    return std::nullopt;
  const ZydisDecodedOperand *ops = in.ops;
  if (in.insn->operand_count_visible < 2 || ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER || gprIndex(ops[0].reg.value) < 0 ||
      (ops[0].size != 32 && ops[0].size != 64))
    return std::nullopt;
  if (in.insn->mnemonic == ZYDIS_MNEMONIC_XOR && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].reg.value == ops[0].reg.value)
    return std::nullopt;   // the zeroing idiom: handled as such
  Value a = s.reg(ops[0].reg.value), b = read(s, in, ops[1]);
  if (!a.isConst() || !b.isConst())
    return std::nullopt;
  uint64_t x = uint64_t(a.off), y = uint64_t(b.off), r = 0;
  switch (in.insn->mnemonic) {
  case ZYDIS_MNEMONIC_ADD: r = x + y; break;
  case ZYDIS_MNEMONIC_SUB: r = x - y; break;
  case ZYDIS_MNEMONIC_AND: r = x & y; break;
  case ZYDIS_MNEMONIC_OR: r = x | y; break;
  case ZYDIS_MNEMONIC_XOR: r = x ^ y; break;
  default: return std::nullopt;
  }
  if (ops[0].size == 32)
    r &= 0xFFFFFFFFu;
  return Value::constant(int64_t(r));
}

bool Tracker::replay(uint32_t from, uint32_t to, std::vector<State> &states, size_t maxPaths, bool &forked) const {
  ZydisDecodedInstruction d;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  for (uint32_t pc = from; pc < to;) {
    if (!dec_.decodeFull(img_.bytesFromRva(pc), pc, d, ops))
      return false;
    Insn in{pc, &d, ops};
    const bool reg0 = d.operand_count_visible >= 1 && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER;
    const bool cmov = d.mnemonic >= ZYDIS_MNEMONIC_CMOVB && d.mnemonic <= ZYDIS_MNEMONIC_CMOVZ &&
                      d.operand_count_visible == 2 && reg0;
    // Conditions made numbers: `setcc r8` (0 or 1, the register zeroed
    // before or extended after), `sbb r, r` (0 or -1), `and r, k` of an
    // unknown r with a one- or two-bit k (each combination of those bits).
    const bool setcc = d.mnemonic >= ZYDIS_MNEMONIC_SETB && d.mnemonic <= ZYDIS_MNEMONIC_SETZ &&
                       d.mnemonic != ZYDIS_MNEMONIC_SETSSBSY && reg0 && ops[0].size == 8;
    const bool sbb = d.mnemonic == ZYDIS_MNEMONIC_SBB && d.operand_count_visible == 2 && reg0 &&
                     ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].reg.value == ops[0].reg.value;
    const bool andSmall = d.mnemonic == ZYDIS_MNEMONIC_AND && d.operand_count_visible == 2 && reg0 &&
                          ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[1].imm.value.u > 0 &&
                          std::popcount(ops[1].imm.value.u & 0xFFFFFFFFu) <= 2 && ops[1].imm.value.u <= 0xFFFFFFFFu;
    ZydisRegister whole = reg0 ? ZydisRegisterGetLargestEnclosing(is64_ ? ZYDIS_MACHINE_MODE_LONG_64
                                                                        : ZYDIS_MACHINE_MODE_LEGACY_32,
                                                                  ops[0].reg.value)
                               : ZYDIS_REGISTER_NONE;
    std::vector<State> next;
    for (State &s : states) {
      std::vector<uint64_t> choices;
      if (setcc) {
        choices = {0, 1};
      } else if (sbb) {
        choices = {0, ops[0].size == 64 ? ~uint64_t(0) : 0xFFFFFFFFu};
      } else if (andSmall && !s.reg(whole).isConst()) {
        uint64_t k = ops[1].imm.value.u, sub = 0;
        do {
          choices.push_back(sub);
          sub = (sub - k) & k;
        } while (sub);
      }
      if (cmov) {
        // Either the move happens or it does not.
        State moved = s;
        moved.setReg(ops[0].reg.value, read(s, in, ops[1]));
        next.push_back(std::move(moved));
        next.push_back(s);
        forked = true;
      } else if (!choices.empty()) {
        for (uint64_t c : choices) {
          State one = s;
          transfer(in, one);
          one.setReg(whole, Value::constant(int64_t(c)));
          next.push_back(std::move(one));
        }
        forked = true;
      } else {
        transfer(in, s);
        next.push_back(std::move(s));
      }
    }
    if (next.size() > maxPaths)
      next.resize(maxPaths);
    states = std::move(next);
    pc += d.length;
  }
  return true;
}

std::vector<State> Tracker::pathStates(uint32_t site, size_t maxPaths) const {
  const auto &blocks = f_.blocks;
  auto blockOf = [&](uint32_t rva) -> std::optional<size_t> {
    for (size_t i = 0; i < blocks.size(); ++i)
      if (rva >= blocks[i].rva && rva < blocks[i].end)
        return i;
    return std::nullopt;
  };
  auto preds = [&](size_t b) {
    std::vector<size_t> out;
    for (size_t i = 0; i < blocks.size(); ++i)
      if (in_[i].reachable() &&
          std::find(blocks[i].successors.begin(), blocks[i].successors.end(), blocks[b].rva) != blocks[i].successors.end())
        out.push_back(i);
    return out;
  };
  auto at = blockOf(site);
  if (!at || !in_[*at].reachable())
    return {};
  // Up the single-predecessor chain to the join (or the entry).
  std::vector<size_t> chain{*at};
  std::vector<size_t> into = preds(*at);
  while (into.size() == 1 && chain.size() < 4 && std::find(chain.begin(), chain.end(), into[0]) == chain.end()) {
    chain.insert(chain.begin(), into[0]);
    into = preds(into[0]);
  }
  std::vector<State> states;
  bool forked = false;
  if (into.size() >= 2 && into.size() <= maxPaths) {
    for (size_t p : into) {
      std::vector<State> one{in_[p]};
      if (!replay(blocks[p].rva, blocks[p].end, one, maxPaths, forked))
        return {};
      states.insert(states.end(), one.begin(), one.end());
    }
    forked = true;
  } else {
    states.push_back(in_[chain.front()]);
  }
  if (states.size() > maxPaths)
    states.resize(maxPaths);
  for (size_t k = 0; k < chain.size(); ++k) {
    const auto &b = blocks[chain[k]];
    if (!replay(b.rva, k + 1 == chain.size() ? site : b.end, states, maxPaths, forked))
      return {};
  }
  return forked ? states : std::vector<State>{};
}

void Tracker::forEach(const std::function<void(const Insn &, const State &)> &fn) const {
  ZydisDecodedInstruction d;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  for (size_t bi = 0; bi < f_.blocks.size(); ++bi) {
    if (!in_[bi].reachable())
      continue;
    State s = in_[bi];
    const auto &b = f_.blocks[bi];
    for (uint32_t pc = b.rva; pc < b.end;) {
      if (!dec_.decodeFull(img_.bytesFromRva(pc), pc, d, ops))
        break;
      Insn in{pc, &d, ops};
      fn(in, s);
      transfer(in, s);
      pc += d.length;
    }
  }
}

} // namespace sb::values
