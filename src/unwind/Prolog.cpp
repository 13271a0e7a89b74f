// Prolog disassembly: turns the instructions at a function's start into the
// stack events an unwind code would describe.
#include "switchboard/unwind/Frame.h"

#include "code/Decoder.h"
#include "code/ZydisRegisters.h"

#include <fmt/format.h>

namespace sb::unwind {
namespace {
using code::gprIndex;
int xmmNumber(ZydisRegister r) {
  if (r >= ZYDIS_REGISTER_XMM0 && r <= ZYDIS_REGISTER_XMM15)
    return int(r - ZYDIS_REGISTER_XMM0);
  return -1;
}
constexpr unsigned kMaxPrologInstructions = 300;   // a prolog is at most 255 bytes
} // namespace

std::vector<PrologEvent> simulateProlog(const image::Image &img, const code::Decoder &dec, uint32_t rva,
                                        uint32_t prologSize, bool stopAtTransfer) {
  std::vector<PrologEvent> ev;
  int64_t depth = 0;                 // bytes below RSP at entry
  int64_t alias[16];                 // register -> depth when it was set to rsp (copy of rsp), or INT64_MIN
  for (auto &a : alias)
    a = INT64_MIN;
  std::optional<int64_t> eaxConst;   // mov eax, N before call __chkstk; sub rsp, rax
  bool written[16] = {};             // registers the prolog has changed: storing them saves nothing
  bool xmmWritten[16] = {};          // the same for xmm0-15
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  uint32_t off = 0;
  for (unsigned n = 0; n < kMaxPrologInstructions && off < std::max<uint32_t>(prologSize, 1); ++n) {
    if (!dec.decodeFull(img.bytesFromRva(rva + off), rva + off, in, ops))
      break;
    uint32_t end = off + in.length;
    std::string text = dec.format(in, ops, img.rvaToVa(rva + off));
    auto push = [&](PrologEvent::Kind k, uint32_t reg, int64_t value) { ev.push_back({k, end, reg, value, text}); };
    // Address of a [base+disp] operand relative to RSP at entry, when base is rsp or an alias of it.
    auto entryAddress = [&](const ZydisDecodedOperand &op) -> std::optional<int64_t> {
      if (op.type != ZYDIS_OPERAND_TYPE_MEMORY || op.mem.index != ZYDIS_REGISTER_NONE)
        return std::nullopt;
      int64_t disp = op.mem.disp.has_displacement ? op.mem.disp.value : 0;
      if (op.mem.base == ZYDIS_REGISTER_RSP)
        return disp - depth;
      int g = gprIndex(op.mem.base);
      if (g >= 0 && alias[g] != INT64_MIN)
        return disp - alias[g];
      return std::nullopt;
    };
    bool dstIsReg = ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER;
    switch (in.mnemonic) {
    case ZYDIS_MNEMONIC_PUSH:
      if (dstIsReg && gprIndex(ops[0].reg.value) >= 0) {
        int g = gprIndex(ops[0].reg.value);
        // clang pushes a volatile register to allocate 8 bytes.
        if (code::isNonVolatile(g, true))
          push(PrologEvent::Push, uint32_t(g), 8);
        else
          push(PrologEvent::Alloc, 0, 8);
      } else {
        push(PrologEvent::Alloc, 0, 8);
      }
      depth += 8;
      break;
    case ZYDIS_MNEMONIC_SUB:
      if (dstIsReg && ops[0].reg.value == ZYDIS_REGISTER_RSP) {
        int64_t size = 0;
        if (ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE)
          size = int64_t(ops[1].imm.value.u);
        else if (ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && gprIndex(ops[1].reg.value) == 0 && eaxConst)
          size = *eaxConst;
        push(PrologEvent::Alloc, 0, size);
        depth += size;
      }
      break;
    case ZYDIS_MNEMONIC_ADD:   // GCC: add rsp, -0x80 (shorter than sub rsp, 0x80)
      if (dstIsReg && ops[0].reg.value == ZYDIS_REGISTER_RSP && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
          ops[1].imm.value.s < 0) {
        push(PrologEvent::Alloc, 0, -ops[1].imm.value.s);
        depth -= ops[1].imm.value.s;
      }
      break;
    case ZYDIS_MNEMONIC_LEA:
      if (dstIsReg && ops[1].mem.base == ZYDIS_REGISTER_RSP && ops[1].mem.index == ZYDIS_REGISTER_NONE) {
        int64_t disp = ops[1].mem.disp.has_displacement ? ops[1].mem.disp.value : 0;
        if (ops[0].reg.value == ZYDIS_REGISTER_RSP) {   // lea rsp, [rsp-N]; lea rsp,[rsp] is a hot-patch nop
          if (disp != 0)
            push(PrologEvent::Alloc, 0, -disp);
          depth -= disp;
        } else if (int g = gprIndex(ops[0].reg.value); g >= 0) {
          push(PrologEvent::SetFrame, uint32_t(g), disp);
          alias[g] = depth - disp;   // g = rsp + disp: saves through it are frame-relative
        }
      }
      break;
    case ZYDIS_MNEMONIC_MOV:
    case ZYDIS_MNEMONIC_MOVAPS:
    case ZYDIS_MNEMONIC_MOVUPS:
    case ZYDIS_MNEMONIC_MOVDQA:
    case ZYDIS_MNEMONIC_MOVDQU:
    case ZYDIS_MNEMONIC_MOVSD:
    case ZYDIS_MNEMONIC_MOVSS:
    case ZYDIS_MNEMONIC_MOVQ:
    case ZYDIS_MNEMONIC_VMOVAPS:
    case ZYDIS_MNEMONIC_VMOVDQA:
      if (dstIsReg && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].reg.value == ZYDIS_REGISTER_RSP) {
        int g = gprIndex(ops[0].reg.value);
        if (g >= 0)
          alias[g] = depth;   // mov r11, rsp (or mov rbp, rsp: a frame pointer, see below)
        if (g == 5 || (g >= 0 && code::isNonVolatile(g, true) && g != 3 && g != 6 && g != 7))
          push(PrologEvent::SetFrame, uint32_t(g), 0);
      } else if (dstIsReg && ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && gprIndex(ops[0].reg.value) == 0) {
        eaxConst = int64_t(ops[1].imm.value.u);
      } else if (ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
        auto addr = entryAddress(ops[0]);
        if (!addr)
          break;
        int g = gprIndex(ops[1].reg.value), x = xmmNumber(ops[1].reg.value);
        bool homeArea = *addr >= 8 && *addr < 0x28;
        if (g == 1 || g == 2 || g == 8 || g == 9) {   // rcx, rdx, r8, r9
          if (homeArea)
            push(PrologEvent::Home, g == 1 ? 0 : g == 2 ? 1 : uint32_t(g - 6), *addr);
        } else if (g >= 0 && code::isNonVolatile(g, true) && !written[g] && ops[1].size == 64) {
          push(PrologEvent::Save, uint32_t(g), *addr);
        } else if (x >= 0 && x < 4 && homeArea) {
          push(PrologEvent::Home, 16 + uint32_t(x), *addr);
        } else if (x >= 6 && !xmmWritten[x]) {
          // Only a full 128-bit store preserves a non-volatile XMM register;
          // a 64-bit one (movsd, movq) spills a double.
          push(ops[1].size >= 128 && ops[0].size >= 128 ? PrologEvent::SaveXmm : PrologEvent::SpillXmm, uint32_t(x),
               *addr);
        }
      }
      break;
    default:
      break;
    }
    for (unsigned k = 0; k < in.operand_count; ++k)
      if (ops[k].type == ZYDIS_OPERAND_TYPE_REGISTER && (ops[k].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) {
        int g = gprIndex(ops[k].reg.value);
        if (g >= 0 && g != 4 && in.mnemonic != ZYDIS_MNEMONIC_PUSH)
          written[g] = true;
        if (int x = xmmNumber(ops[k].reg.value); x >= 0)
          xmmWritten[x] = true;
      }
    off = end;
    // Shrink-wrapped prologs interleave early-exit tests and branches with
    // the saves: sweep the whole prolog byte range. Past it (homing stores
    // only matter before it) a transfer ends the look.
    // (An early-exit epilog inside the range pops nothing we count: the
    // simulation keeps the prolog's depth.)
    if (end >= prologSize && (in.meta.category == ZYDIS_CATEGORY_RET || in.meta.category == ZYDIS_CATEGORY_UNCOND_BR))
      break;
    if (stopAtTransfer && (in.meta.category == ZYDIS_CATEGORY_RET || in.meta.category == ZYDIS_CATEGORY_UNCOND_BR ||
                           in.meta.category == ZYDIS_CATEGORY_COND_BR || in.meta.category == ZYDIS_CATEGORY_CALL))
      break;
  }
  return ev;
}

} // namespace sb::unwind
