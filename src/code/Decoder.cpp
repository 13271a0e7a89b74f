#include "code/Decoder.h"

#include "switchboard/image/Image.h"

namespace sb::code {

Decoder::Decoder(bool is64, uint64_t imageBase) : is64_(is64), imageBase_(imageBase) {
  if (is64)
    ZydisDecoderInit(&decoder_, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
  else
    ZydisDecoderInit(&decoder_, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
  ZydisFormatterInit(&formatter_, ZYDIS_FORMATTER_STYLE_INTEL);
  ZydisFormatterSetProperty(&formatter_, ZYDIS_FORMATTER_PROP_FORCE_SIZE, ZYAN_TRUE);
  ZydisFormatterSetProperty(&formatter_, ZYDIS_FORMATTER_PROP_HEX_UPPERCASE, ZYAN_FALSE);
}

bool Decoder::decode(std::span<const uint8_t> bytes, uint32_t rva, DecodedInsn &out) const {
  if (bytes.empty())
    return false;
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&decoder_, nullptr, bytes.data(), bytes.size(), &out.insn)))
    return false;
  out.rva = rva;
  classify(out);
  return true;
}

bool Decoder::decodeFull(std::span<const uint8_t> bytes, uint32_t rva, DecodedInsn &out,
                         ZydisDecodedOperand *operands) const {
  if (!decodeFull(bytes, rva, out.insn, operands))
    return false;
  out.rva = rva;
  classify(out);
  return true;
}

void Decoder::classify(DecodedInsn &out) const {
  const ZydisDecodedInstruction &in = out.insn;
  const uint32_t rva = out.rva;
  out.flow = Flow::Normal;
  out.target.reset();
  out.memTarget.reset();
  auto relTarget = [&]() -> std::optional<uint32_t> {
    if (!in.raw.imm[0].is_relative)
      return std::nullopt;
    int64_t t = int64_t(rva) + in.length + in.raw.imm[0].value.s;
    if (t < 0 || t > 0xFFFFFFFFll)
      return std::nullopt;
    return uint32_t(t);
  };
  // [disp] operand of FF /2, FF /4: rip-relative on x64, absolute on x86.
  auto memOperand = [&]() -> std::optional<uint32_t> {
    if (in.raw.modrm.mod != 0 || in.raw.modrm.rm != 5)
      return std::nullopt;
    if (is64_) {
      int64_t t = int64_t(rva) + in.length + in.raw.disp.value;
      if (t < 0 || t > 0xFFFFFFFFll)
        return std::nullopt;
      return uint32_t(t);
    }
    uint64_t va = uint32_t(in.raw.disp.value);
    if (va < imageBase_ || va - imageBase_ > 0xFFFFFFFFull)
      return std::nullopt;
    return uint32_t(va - imageBase_);
  };
  switch (in.mnemonic) {
  case ZYDIS_MNEMONIC_JMP:
    if (in.raw.imm[0].is_relative) {
      out.flow = Flow::Jump;
      out.target = relTarget();
    } else {
      out.flow = Flow::IndirectJump;
      out.memTarget = memOperand();
    }
    break;
  case ZYDIS_MNEMONIC_CALL:
    if (in.raw.imm[0].is_relative) {
      out.flow = Flow::Call;
      out.target = relTarget();
    } else {
      out.flow = Flow::IndirectCall;
      out.memTarget = memOperand();
    }
    break;
  case ZYDIS_MNEMONIC_RET:
  case ZYDIS_MNEMONIC_IRET:
  case ZYDIS_MNEMONIC_IRETD:
  case ZYDIS_MNEMONIC_IRETQ:
    out.flow = Flow::Return;
    break;
  case ZYDIS_MNEMONIC_INT3:
  case ZYDIS_MNEMONIC_UD0:
  case ZYDIS_MNEMONIC_UD1:
  case ZYDIS_MNEMONIC_UD2:
  case ZYDIS_MNEMONIC_HLT:
    out.flow = Flow::Stop;
    break;
  case ZYDIS_MNEMONIC_INT:
    // int 29h is __fastfail; int 2Ch is __assert. Neither returns.
    if (in.raw.imm[0].value.u == 0x29 || in.raw.imm[0].value.u == 0x2C)
      out.flow = Flow::Stop;
    break;
  default:
    if (in.meta.category == ZYDIS_CATEGORY_COND_BR) {
      out.flow = Flow::CondJump;
      out.target = relTarget();
    }
    break;
  }
}

bool Decoder::decodeFull(std::span<const uint8_t> bytes, uint32_t rva, ZydisDecodedInstruction &insn,
                         ZydisDecodedOperand *operands) const {
  if (bytes.empty())
    return false;
  return ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder_, bytes.data(), bytes.size(), &insn, operands));
}

bool Decoder::isPadding(std::span<const uint8_t> bytes, uint32_t rva) const {
  if (bytes.empty())
    return false;
  if (bytes[0] == 0xCC || bytes[0] == 0x90)
    return true;
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!decodeFull(bytes, rva, in, ops))
    return false;
  switch (in.mnemonic) {
  case ZYDIS_MNEMONIC_NOP:
  case ZYDIS_MNEMONIC_INT3:
    return true;
  case ZYDIS_MNEMONIC_LEA:
    return ops[1].mem.base == ops[0].reg.value && ops[1].mem.index == ZYDIS_REGISTER_NONE &&
           (!ops[1].mem.disp.has_displacement || ops[1].mem.disp.value == 0);
  case ZYDIS_MNEMONIC_MOV:
  case ZYDIS_MNEMONIC_XCHG:
    // GCC pads with `mov esi,esi`; `mov edi,edi` is MSVC's hot-patch point at
    // a function's start, and on x64 a 32-bit self-move zero-extends: code.
    return !is64_ && ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
           ops[0].reg.value == ZYDIS_REGISTER_ESI && ops[1].reg.value == ZYDIS_REGISTER_ESI;
  default:
    return false;
  }
}

std::string Decoder::format(const ZydisDecodedInstruction &insn, const ZydisDecodedOperand *operands,
                            uint64_t va) const {
  char buf[256];
  if (!ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&formatter_, &insn, operands, insn.operand_count_visible,
                                                    buf, sizeof(buf), va, nullptr)))
    return "??";
  return buf;
}

uint32_t absoluteMemoryRva(const image::Image &img, const DecodedInsn &in) {
  const ZydisDecodedInstruction &d = in.insn;
  if (img.is64())
    return (d.attributes & ZYDIS_ATTRIB_HAS_MODRM) && d.raw.modrm.mod == 0 && d.raw.modrm.rm == 5
               ? uint32_t(in.next() + d.raw.disp.value)
               : 0;
  return d.raw.disp.size == 32 ? img.vaToRva(uint32_t(d.raw.disp.value)).value_or(0) : 0;
}

} // namespace sb::code
