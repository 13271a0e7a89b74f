#include "switchboard/code/Disassembly.h"

#include "code/Decoder.h"
#include "switchboard/image/Image.h"

namespace sb::code {

Disassembler::Disassembler(const image::Image &img)
    : img_(img), dec_(std::make_unique<const Decoder>(img.is64(), img.imageBase())) {}

Disassembler::~Disassembler() = default;

std::optional<Instruction> Disassembler::at(uint32_t rva) const {
  DecodedInsn d;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!dec_->decodeFull(img_.bytesFromRva(rva), rva, d, ops))
    return std::nullopt;
  const ZydisDecodedInstruction &in = d.insn;
  uint64_t va = img_.rvaToVa(rva);
  Instruction out;
  out.rva = rva;
  out.length = in.length;
  out.text = dec_->format(in, ops, va);
  out.flow = d.flow;
  out.target = d.target;
  out.memTarget = d.memTarget;
  out.callOrJump = in.meta.category == ZYDIS_CATEGORY_CALL || in.meta.category == ZYDIS_CATEGORY_UNCOND_BR;
  for (unsigned i = 0; i < in.operand_count_visible; ++i) {
    const ZydisDecodedOperand &op = ops[i];
    if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && op.imm.is_relative)
      out.references.push_back(va + in.length + op.imm.value.s);
    else if (op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.mem.base == ZYDIS_REGISTER_RIP)
      out.references.push_back(va + in.length + op.mem.disp.value);
    else if (op.type == ZYDIS_OPERAND_TYPE_MEMORY && op.mem.base == ZYDIS_REGISTER_NONE &&
             op.mem.index == ZYDIS_REGISTER_NONE && !img_.is64())
      out.references.push_back(uint32_t(op.mem.disp.value));
    else if (op.type == ZYDIS_OPERAND_TYPE_IMMEDIATE && !img_.is64() && op.imm.value.u >= img_.imageBase())
      out.references.push_back(op.imm.value.u);
  }
  return out;
}

std::vector<Instruction> Disassembler::run(uint32_t rva, size_t count) const {
  std::vector<Instruction> out;
  for (uint32_t pc = rva; out.size() < count;) {
    auto in = at(pc);
    if (!in)
      break;
    pc = in->next();
    out.push_back(std::move(*in));
  }
  return out;
}

} // namespace sb::code
