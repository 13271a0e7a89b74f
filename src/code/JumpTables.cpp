// Switch jump tables. The forms, by compiler:
//   x64 MSVC  lea rB,[__ImageBase]; mov eX,[rB+rI*4+TABLE_RVA]; add rX,rB; jmp rX
//             (optionally movzx rI, byte [rB+rI+INDEX_RVA] first: a byte index table)
//   x64 GCC/clang  lea rT,[rip+T]; movsxd rX,[rT+rI*4]; add rX,rT; jmp rX   (offsets from T)
//   x86       jmp [rI*4+TABLE_VA]  or  mov eX,[rI*4+TABLE_VA]; jmp eX
//             (MSVC: movzx rI, byte [rI+INDEX_VA] first)
// We evaluate the straight-line run before the jmp symbolically, with a value
// per register: a constant, or a load [base + index*scale + disp] plus an
// optional addend register.
#include "JumpTables.h"

#include <algorithm>
#include <array>

namespace sb::code {
namespace {
constexpr uint32_t kMaxEntries = 4096;
constexpr uint32_t kUnboundedScan = 512;

struct Load {
  ZydisRegister base = ZYDIS_REGISTER_NONE;   // canonical; NONE when absent or known
  bool baseConstKnown = false;
  uint64_t baseConst = 0;
  ZydisRegister index = ZYDIS_REGISTER_NONE;
  uint8_t scale = 0;
  int64_t disp = 0;
  uint8_t size = 0;
  bool signExtend = false;
  // The value the index register held at the load, when it was itself a byte
  // load from an index table.
  bool indexIsByteTable = false;
  bool indexTableBaseConstKnown = false;
  uint64_t indexTableBaseConst = 0;
  ZydisRegister indexTableBase = ZYDIS_REGISTER_NONE;
  int64_t indexTableDisp = 0;
};

struct Value {
  enum Kind { Unknown, Const, Mem } kind = Unknown;
  uint64_t constant = 0;
  Load load;
  bool hasAddend = false;
  bool addendConstKnown = false;
  uint64_t addendConst = 0;
  ZydisRegister addendReg = ZYDIS_REGISTER_NONE;
};

ZydisRegister canon(ZydisRegister r) {
  if (r == ZYDIS_REGISTER_NONE)
    return r;
  ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
  return big == ZYDIS_REGISTER_NONE ? r : big;
}

class Evaluator {
public:
  explicit Evaluator(uint64_t imageBase) : imageBase_(imageBase) {}

  Value &reg(ZydisRegister r) { return regs_[slot(canon(r))]; }

  void step(const ZydisDecodedInstruction &in, const ZydisDecodedOperand *ops, uint64_t va) {
    const ZydisDecodedOperand &dst = ops[0];
    bool writesReg = in.operand_count_visible >= 1 && dst.type == ZYDIS_OPERAND_TYPE_REGISTER &&
                     (dst.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE);
    switch (in.mnemonic) {
    case ZYDIS_MNEMONIC_LEA:
      if (writesReg) {
        Value v;
        if (auto a = absoluteAddress(in, ops[1], va)) {
          v.kind = Value::Const;
          v.constant = *a;
        }
        reg(dst.reg.value) = v;
      }
      return;
    case ZYDIS_MNEMONIC_MOV:
    case ZYDIS_MNEMONIC_MOVSXD:
    case ZYDIS_MNEMONIC_MOVSX:
    case ZYDIS_MNEMONIC_MOVZX:
      if (!writesReg)
        return;
      if (ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        Value v;
        v.kind = Value::Const;
        v.constant = ops[1].imm.value.u;
        reg(dst.reg.value) = v;
      } else if (ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
        Value v = reg(ops[1].reg.value);
        reg(dst.reg.value) = v;
      } else if (ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY) {
        reg(dst.reg.value) = memValue(in, ops[1], va, in.mnemonic != ZYDIS_MNEMONIC_MOVZX &&
                                                             in.mnemonic != ZYDIS_MNEMONIC_MOV);
      } else {
        reg(dst.reg.value) = Value{};
      }
      return;
    case ZYDIS_MNEMONIC_ADD:
      if (!writesReg)
        return;
      if (ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
        Value &a = reg(dst.reg.value);
        Value b = reg(ops[1].reg.value);
        if (a.kind == Value::Mem && !a.hasAddend) {
          a.hasAddend = true;
          a.addendConstKnown = b.kind == Value::Const;
          a.addendConst = b.constant;
          a.addendReg = canon(ops[1].reg.value);
          return;
        }
        if (a.kind == Value::Const && b.kind == Value::Mem && !b.hasAddend) {
          uint64_t c = a.constant;
          a = b;
          a.hasAddend = true;
          a.addendConstKnown = true;
          a.addendConst = c;
          return;
        }
        if (a.kind != Value::Const && b.kind == Value::Mem && !b.hasAddend) {
          ZydisRegister ar = canon(dst.reg.value);
          a = b;
          a.hasAddend = true;
          a.addendReg = ar;
          return;
        }
      }
      reg(dst.reg.value) = Value{};
      return;
    case ZYDIS_MNEMONIC_CALL:
      // The callee leaves its result in eax/rax and may change every other
      // volatile register (a value loaded before the call is gone).
      for (ZydisRegister r : {ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDX, ZYDIS_REGISTER_R8,
                              ZYDIS_REGISTER_R9, ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11})
        reg(r) = Value{};
      return;
    default:
      // Any other write to a register makes it unknown. Compares, tests and
      // stores leave registers alone.
      for (unsigned i = 0; i < in.operand_count; ++i)
        if (ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
          reg(ops[i].reg.value) = Value{};
      return;
    }
  }

  Value memValue(const ZydisDecodedInstruction &in, const ZydisDecodedOperand &op, uint64_t va, bool signExt) {
    Value v;
    v.kind = Value::Mem;
    Load &l = v.load;
    l.size = uint8_t(op.size / 8);
    l.signExtend = signExt;
    l.index = canon(op.mem.index);
    l.scale = op.mem.scale;
    l.disp = op.mem.disp.has_displacement ? op.mem.disp.value : 0;
    if (op.mem.base == ZYDIS_REGISTER_RIP) {
      l.baseConstKnown = true;
      l.baseConst = va + in.length;
    } else if (op.mem.base != ZYDIS_REGISTER_NONE) {
      const Value &b = reg(op.mem.base);
      if (b.kind == Value::Const) {
        l.baseConstKnown = true;
        l.baseConst = b.constant;
      } else {
        l.base = canon(op.mem.base);
      }
    } else {
      l.baseConstKnown = true;
      l.baseConst = 0;
    }
    if (l.index != ZYDIS_REGISTER_NONE) {
      const Value &iv = reg(l.index);
      if (iv.kind == Value::Mem && !iv.hasAddend && iv.load.size == 1 && !iv.load.signExtend &&
          iv.load.scale <= 1) {
        l.indexIsByteTable = true;
        l.indexTableBaseConstKnown = iv.load.baseConstKnown;
        l.indexTableBaseConst = iv.load.baseConst;
        l.indexTableBase = iv.load.base;
        l.indexTableDisp = iv.load.disp;
      }
    }
    return v;
  }

  std::optional<uint64_t> absoluteAddress(const ZydisDecodedInstruction &in, const ZydisDecodedOperand &op,
                                          uint64_t va) {
    if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.index != ZYDIS_REGISTER_NONE)
      return std::nullopt;
    int64_t disp = op.mem.disp.has_displacement ? op.mem.disp.value : 0;
    if (op.mem.base == ZYDIS_REGISTER_RIP)
      return va + in.length + disp;
    if (op.mem.base == ZYDIS_REGISTER_NONE)
      return uint64_t(disp) & (imageBase_ > 0xFFFFFFFFull ? ~0ull : 0xFFFFFFFFull);
    return std::nullopt;
  }

private:
  static size_t slot(ZydisRegister r) { return size_t(r) <= ZYDIS_REGISTER_MAX_VALUE ? size_t(r) : 0; }
  uint64_t imageBase_;
  std::array<Value, ZYDIS_REGISTER_MAX_VALUE + 1> regs_{};
};

struct TableReader {
  const image::Image &img;

  // The code RVA an entry points at, or nullopt if the entry is not a
  // plausible case target.
  std::optional<uint32_t> entry(const JumpTable &t, uint32_t i) const {
    uint32_t at = t.tableRva + i * t.entrySize;
    std::optional<uint64_t> targetVa;
    switch (t.kind) {
    case JumpTableKind::Absolute: {
      if (!img.mayHoldAddress(at))
        return std::nullopt;
      std::optional<uint64_t> p;
      if (t.entrySize == 8)
        p = img.readRva<uint64_t>(at);
      else if (auto v = img.readRva<uint32_t>(at))
        p = *v;
      if (!p)
        return std::nullopt;
      targetVa = *p;
      break;
    }
    case JumpTableKind::ImageRelative: {
      auto r = img.readRva<uint32_t>(at);
      if (!r)
        return std::nullopt;
      targetVa = img.imageBase() + *r;
      break;
    }
    case JumpTableKind::TableRelative: {
      auto r = img.readRva<int32_t>(at);
      if (!r)
        return std::nullopt;
      targetVa = img.imageBase() + t.tableRva + int64_t(*r);
      break;
    }
    }
    auto rva = img.vaToRva(*targetVa);
    if (!rva || !img.isExecutableRva(*rva))
      return std::nullopt;
    return rva;
  }
};

std::optional<uint32_t> vaToRva(const image::Image &img, uint64_t va) {
  auto r = img.vaToRva(va);
  if (!r || !img.isMappedRva(*r))
    return std::nullopt;
  return r;
}
} // namespace

const char *jumpTableKindName(JumpTableKind k) {
  switch (k) {
  case JumpTableKind::Absolute: return "absolute";
  case JumpTableKind::ImageRelative: return "image-relative";
  case JumpTableKind::TableRelative: return "table-relative";
  }
  return "?";
}

std::optional<JumpTable> recognizeJumpTable(const image::Image &img, const Decoder &dec,
                                            std::span<const uint32_t> run, std::optional<uint32_t> bound) {
  if (run.empty())
    return std::nullopt;
  Evaluator ev(img.imageBase());
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  for (size_t i = 0; i + 1 < run.size(); ++i) {
    if (!dec.decodeFull(img.bytesFromRva(run[i]), run[i], in, ops))
      return std::nullopt;
    ev.step(in, ops, img.rvaToVa(run[i]));
  }
  uint32_t jmpRva = run.back();
  if (!dec.decodeFull(img.bytesFromRva(jmpRva), jmpRva, in, ops) || in.mnemonic != ZYDIS_MNEMONIC_JMP)
    return std::nullopt;

  JumpTable t;
  t.jumpRva = jmpRva;
  Load load;
  const uint64_t base = img.imageBase();
  // A table of pointers at [base + disp] (x86, non-PIC x64).
  auto absolute = [&](const Load &l) {
    auto r = vaToRva(img, l.baseConst + l.disp);
    if (!r)
      return false;
    t.kind = JumpTableKind::Absolute;
    t.entrySize = uint8_t(img.pointerSize());
    t.tableRva = *r;
    return true;
  };
  if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY) {
    // jmp [rI*4+TABLE]
    load = ev.memValue(in, ops[0], img.rvaToVa(jmpRva), false).load;
    if (load.index == ZYDIS_REGISTER_NONE || !load.baseConstKnown || load.scale != img.pointerSize() ||
        !absolute(load))
      return std::nullopt;
  } else if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER) {
    const Value &v = ev.reg(ops[0].reg.value);
    if (v.kind != Value::Mem || v.load.index == ZYDIS_REGISTER_NONE)
      return std::nullopt;
    load = v.load;
    if (!v.hasAddend) {
      // mov eX,[rI*4+TABLE]; jmp eX
      if (!load.baseConstKnown || load.size != img.pointerSize() || !absolute(load))
        return std::nullopt;
    } else if (load.size == 4 && load.baseConstKnown && v.addendConstKnown && load.baseConst == v.addendConst &&
               load.baseConst != base) {
      // Offsets relative to the table itself (GCC/clang).
      auto r = vaToRva(img, load.baseConst + load.disp);
      if (!r)
        return std::nullopt;
      t.kind = JumpTableKind::TableRelative;
      t.tableRva = *r;
    } else if (load.size == 4 &&
               ((load.baseConstKnown && load.baseConst == base) ||
                (!load.baseConstKnown && ((v.addendConstKnown && v.addendConst == base) ||
                                          (!v.addendConstKnown && v.addendReg == load.base))))) {
      // MSVC x64: entries are RVAs, the base register holds __ImageBase
      // (possibly loaded outside the window we see).
      if (load.disp < 0 || load.disp > 0xFFFFFFFFll)
        return std::nullopt;
      t.kind = JumpTableKind::ImageRelative;
      t.tableRva = uint32_t(load.disp);
      if (!img.isMappedRva(t.tableRva))
        return std::nullopt;
    } else {
      return std::nullopt;
    }
  } else {
    return std::nullopt;
  }
  if (load.scale != t.entrySize)
    return std::nullopt;

  TableReader reader{img};
  uint32_t count = 0;
  if (load.indexIsByteTable && bound) {
    // A byte index table maps the case value to a slot of the main table.
    std::optional<uint32_t> idxRva;
    if (load.indexTableBaseConstKnown && load.indexTableBaseConst != base)
      idxRva = vaToRva(img, load.indexTableBaseConst + load.indexTableDisp);
    else if (t.kind == JumpTableKind::ImageRelative)
      idxRva = uint32_t(load.indexTableDisp);
    else
      idxRva = vaToRva(img, uint64_t(load.indexTableDisp));
    if (!idxRva)
      return std::nullopt;
    t.indexTableRva = *idxRva;
    uint32_t maxSlot = 0;
    for (uint32_t i = 0; i < std::min(*bound, kMaxEntries); ++i) {
      auto b = img.readRva<uint8_t>(*idxRva + i);
      if (!b)
        return std::nullopt;
      maxSlot = std::max<uint32_t>(maxSlot, *b);
    }
    count = maxSlot + 1;
    t.boundKnown = true;
  } else if (bound && *bound > 0 && *bound <= kMaxEntries) {
    count = *bound;
    t.boundKnown = true;
  } else {
    count = kUnboundedScan;
  }
  for (uint32_t i = 0; i < count; ++i) {
    auto target = reader.entry(t, i);
    if (!target)
      break;
    t.targets.push_back(*target);
  }
  if (t.targets.empty() || (!t.boundKnown && t.targets.size() < 2))
    return std::nullopt;
  return t;
}

} // namespace sb::code
