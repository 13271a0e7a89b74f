#include "Facts.h"

#include <optional>
#include <unordered_map>

#include <algorithm>

namespace sb::cxx {
using values::Kind;
using values::Value;

namespace {
// The deleting destructor's flags: RDX on x64, the first stack argument of a
// thiscall on x86.
bool isFlagsParam(const Value &v, bool is64) { return v.kind == Kind::Param && v.base == (is64 ? 1u : 0u) && v.off == 0; }
} // namespace

FunctionFacts gatherFacts(const Analysis &a, const code::Decoder &dec, const code::Function &f) {
  const pe::PeImage &img = a.image();
  const bool is64 = img.is64();
  const uint32_t thisIndex = values::thisParam(is64);
  FunctionFacts out;
  out.rva = f.rva;
  values::Tracker t(img, dec, f);
  // EH funclets are chunks of the function, but their `ret`s return to the
  // EH runtime (a continuation address), not to the function's caller.
  // MSVC emits them after the function's code (.text$x): every chunk from
  // the first funclet on is funclet code, also pieces no entry names.
  const uint32_t firstFunclet =
      f.funclets.empty() ? UINT32_MAX : *std::min_element(f.funclets.begin(), f.funclets.end());
  auto inFunclet = [&](uint32_t rva) {
    for (const code::Range &c : f.chunks)
      if (c.contains(rva))
        return !c.contains(f.rva) && (c.rva >= firstFunclet || c.contains(firstFunclet));
    return false;
  };
  // A call or jump through a vftable slot read from an object.
  auto virtualCall = [&](uint32_t site, const Value &target, const values::State &s, const Value &stackArg0) {
    IndirectCall ic;
    ic.site = site;
    ic.vfptr = target.address();
    ic.slotOffset = target.slot;
    ic.thisArg = t.thisArgument(s);
    ic.stackArg0 = stackArg0;
    return ic;
  };
  // Loads of a vbtable entry through this object's vbptr (`mov rax,[rcx+P];
  // movsxd rdx,[rax+K]`), by the loading instruction: the register that
  // holds one is an Opaque value of that site (x64) or a Slot (x86).
  std::unordered_map<uint32_t, std::pair<int64_t, int64_t>> vbEntryLoads;
  auto vbEntry = [&](const Value &v) -> std::optional<std::pair<int64_t, int64_t>> {
    if (v.kind == Kind::Slot && v.addrKind == Kind::Param && v.base == values::thisParam(is64) && v.off == 0)
      return std::make_pair(v.addrOff, v.slot);
    if (v.kind == Kind::Opaque)
      if (auto it = vbEntryLoads.find(v.site); it != vbEntryLoads.end())
        return it->second;
    return std::nullopt;
  };
  bool allReturnThis = true;
  bool ecxWritten = false, afterCall = false, lastCallSetEcx = false;
  t.forEach([&](const values::Insn &in, const values::State &s) {
    const ZydisDecodedInstruction &d = *in.insn;
    const ZydisDecodedOperand *ops = in.ops;
    const unsigned n = d.operand_count_visible;
    if (!is64) {
      // x86: whether ECX carries `this` to the next call (thiscall) or is a
      // leftover: set since the last call, or the callee pops its arguments.
      // The caller's cleanup is `add esp, N`, or `pop ecx` (MSVC pops a
      // volatile register to drop one or two argument slots).
      bool cleanup = (d.mnemonic == ZYDIS_MNEMONIC_ADD && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                      ops[0].reg.value == ZYDIS_REGISTER_ESP) ||
                     (d.mnemonic == ZYDIS_MNEMONIC_POP && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                      ops[0].reg.value == ZYDIS_REGISTER_ECX);
      if (afterCall && cleanup && !out.calls.empty() && !lastCallSetEcx)
        out.calls.back().thisCall = false;
      // MSVC schedules the cleanup after unrelated instructions (`call f;
      // test [ebp+8], 1; pop ecx`): it counts until the next transfer.
      if (cleanup || d.meta.category == ZYDIS_CATEGORY_COND_BR || d.meta.category == ZYDIS_CATEGORY_UNCOND_BR ||
          d.meta.category == ZYDIS_CATEGORY_RET || d.mnemonic == ZYDIS_MNEMONIC_PUSH)
        afterCall = false;
      for (unsigned i = 0; i < d.operand_count; ++i)
        if (ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
            ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_COMPAT_32, ops[i].reg.value) == ZYDIS_REGISTER_ECX &&
            d.mnemonic != ZYDIS_MNEMONIC_CALL)
          ecxWritten = true;
    }
    switch (d.mnemonic) {
    case ZYDIS_MNEMONIC_CALL: {
      CallFact c;
      c.site = in.rva;
      Value target;   // the called pointer, when it is a vftable slot
      if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        c.callee = uint32_t(int64_t(in.next()) + ops[0].imm.value.s);
      } else if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY) {
        Value addr = t.address(s, in, ops[0]);
        if (addr.isImage()) {
          c.callee = addr.base + uint32_t(addr.off);
          c.viaIat = true;
          // CFG dispatch: `call [__guard_dispatch_icall_fptr]` calls RAX.
          target = s.reg(ZYDIS_REGISTER_RAX);
        } else {
          target = t.read(s, in, ops[0]);
        }
      } else if (ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER) {
        target = s.reg(ops[0].reg.value);
      }
      if (target.kind == Kind::Slot && target.off == 0)
        out.indirectCalls.push_back(virtualCall(in.rva, target, s, is64 ? Value{} : t.argument(s, 0)));
      else if (target.kind == Kind::Image && target.off == 0 && img.isExecutableRva(target.base))
        out.resolvedCalls.emplace_back(in.rva, target.base);
      c.thisArg = t.thisArgument(s);
      for (unsigned i = 0; i < 5; ++i)
        c.args[i] = t.argument(s, i);
      if (!is64) {
        // Provisionally a thiscall; an `add esp, N` right after says cdecl
        // unless ECX was set for it.
        lastCallSetEcx = ecxWritten;
        afterCall = true;
        ecxWritten = false;
      }
      out.calls.push_back(c);
      break;
    }
    case ZYDIS_MNEMONIC_JMP:
      // A virtual tail call: `mov ecx, obj; jmp [eax+4]`.
      if (ops[0].type != ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        Value target = ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER ? s.reg(ops[0].reg.value) : t.read(s, in, ops[0]);
        if (target.kind == Kind::Slot && target.off == 0) {
          // A jump leaves the caller's return address at [esp]: arguments start above it.
          Value sp = s.sp();
          Value arg0 = !is64 && sp.kind == Kind::Stack ? s.slot(sp.off + 4, false) : Value{};
          out.indirectCalls.push_back(virtualCall(in.rva, target, s, arg0));
        }
        break;
      }
      // A tail call: `lea rcx, obj; jmp ~T` passes this like a call.
      if (ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
        uint32_t target = uint32_t(int64_t(in.next()) + ops[0].imm.value.s);
        if (std::binary_search(f.tailCalls.begin(), f.tailCalls.end(), target)) {
          CallFact c;
          c.site = in.rva;
          c.callee = target;
          c.tail = true;
          c.thisArg = t.thisArgument(s);
          for (unsigned i = 0; i < 5; ++i)
            c.args[i] = t.argument(s, i);
          out.calls.push_back(c);
        }
      }
      break;
    case ZYDIS_MNEMONIC_RET: {
      if (inFunclet(in.rva))
        break;
      out.anyReturn = true;
      Value rax = s.reg(ZYDIS_REGISTER_RAX);
      if (!(rax.isParam(thisIndex) && rax.off == 0))
        allReturnThis = false;
      out.returns.emplace_back(in.rva, rax);
      break;
    }
    case ZYDIS_MNEMONIC_TEST:
    case ZYDIS_MNEMONIC_CMP:
    case ZYDIS_MNEMONIC_AND:
    case ZYDIS_MNEMONIC_BT:
      if (n >= 2 && d.mnemonic != ZYDIS_MNEMONIC_CMP && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
          isFlagsParam(t.read(s, in, ops[0]), is64)) {
        uint64_t imm = ops[1].imm.value.u;
        out.flagBitsTested |= uint8_t(d.mnemonic == ZYDIS_MNEMONIC_BT ? (imm < 8 ? 1u << imm : 0) : imm & 0xff);
      } else if (n >= 2 && d.mnemonic == ZYDIS_MNEMONIC_CMP && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
                 ops[1].imm.value.u == 0 && isFlagsParam(t.read(s, in, ops[0]), is64)) {
        out.flagBitsTested |= 1;   // `flags != 0`
      } else if (n >= 2 && d.mnemonic == ZYDIS_MNEMONIC_TEST && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                 ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[0].reg.value == ops[1].reg.value &&
                 isFlagsParam(s.reg(ops[0].reg.value), is64)) {
        out.flagBitsTested |= 1;   // `flags != 0`: the scalar deleting destructor of clang
      }
      break;
    default: break;
    }
    // Stores of image addresses (vfptrs, vbptrs) and accesses relative to `this`.
    for (unsigned i = 0; i < n; ++i) {
      const ZydisDecodedOperand &op = ops[i];
      if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || d.mnemonic == ZYDIS_MNEMONIC_LEA)
        continue;
      Value addr = t.address(s, in, op);
      bool write = op.actions & ZYDIS_OPERAND_ACTION_MASK_WRITE;
      if (!write && i == 1 && addr.kind == Kind::Load && addr.addrKind == Kind::Param &&
          addr.base == values::thisParam(is64) && op.size == 32)
        vbEntryLoads[in.rva] = {addr.addrOff, addr.off};
      if (write && d.mnemonic == ZYDIS_MNEMONIC_MOV && n >= 2) {
        Value v = t.read(s, in, ops[1]);
        if (v.isImage() && addr.known()) {
          out.stores.push_back({in.rva, v.base + uint32_t(v.off), addr, false});
        } else if (v.isImage() && op.mem.index != ZYDIS_REGISTER_NONE) {
          // [this + vbtable displacement]: a vfptr of a virtual base. MSVC
          // puts either register first (`mov [rcx+rbx], rax`, rbx = this).
          Value base = s.reg(op.mem.base), index = op.mem.scale <= 1 ? s.reg(op.mem.index) : Value{};
          const Value *object = base.kind == Kind::Param ? &base : index.kind == Kind::Param ? &index : nullptr;
          if (object) {
            AddressStore st{in.rva, v.base + uint32_t(v.off), *object, true};
            if (auto e = vbEntry(object == &base ? index : base)) {
              st.vbptrOffset = e->first;
              st.vbEntryOffset = e->second;
              st.displacement = op.mem.disp.value;
            }
            out.stores.push_back(st);
          }
        }
      }
      if (addr.isParam(thisIndex) && op.size > 0 && addr.off > -0x10000 && addr.off < 0x100000)
        out.thisAccesses.push_back({in.rva, addr.off, unsigned(op.size / 8), write});
    }
  });
  out.returnsThis = out.anyReturn && allReturnThis;
  return out;
}

} // namespace sb::cxx
