// A thin wrapper over Zydis for one machine mode, plus the control-flow facts
// the function model needs from each instruction. Private to the library:
// the public headers name a Decoder only by declaration, and what the outside
// sees of an instruction is code::Instruction (switchboard/code/Disassembly.h).
#pragma once
#include "switchboard/code/Flow.h"

#include <Zydis/Zydis.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace sb::image { class Image; }

namespace sb::code {

struct DecodedInsn {
  ZydisDecodedInstruction insn;
  uint32_t rva = 0;
  Flow flow = Flow::Normal;
  std::optional<uint32_t> target;      // rel branch/call target RVA
  std::optional<uint32_t> memTarget;   // RVA of [mem] for rip-relative/absolute jmp/call [mem]
  uint32_t next() const { return rva + insn.length; }
};

// The absolute address (an RVA) an instruction's memory operand names:
// rip-relative on x64, a 32-bit displacement (a VA) on x86; 0 when none.
uint32_t absoluteMemoryRva(const image::Image &img, const DecodedInsn &in);

class Decoder {
public:
  Decoder(bool is64, uint64_t imageBase);
  bool is64() const { return is64_; }

  // Decodes the instruction at rva from bytes (which start at rva) without
  // operands, and classifies its control flow.
  bool decode(std::span<const uint8_t> bytes, uint32_t rva, DecodedInsn &out) const;
  // Decodes with operands, for the few places that need them.
  bool decodeFull(std::span<const uint8_t> bytes, uint32_t rva, ZydisDecodedInstruction &insn,
                  ZydisDecodedOperand *operands) const;
  // Both: the operands, and the control flow classified as decode() does.
  bool decodeFull(std::span<const uint8_t> bytes, uint32_t rva, DecodedInsn &out,
                  ZydisDecodedOperand *operands) const;
  // Alignment padding idioms: nop (any length), int3, `lea r,[r+0]`,
  // `mov r,r`, `xchg r,r`. Needs the bytes to look at operands.
  bool isPadding(std::span<const uint8_t> bytes, uint32_t rva) const;
  // Intel-syntax text of a fully decoded instruction at the given runtime VA.
  std::string format(const ZydisDecodedInstruction &insn, const ZydisDecodedOperand *operands,
                     uint64_t va) const;

private:
  void classify(DecodedInsn &out) const;   // out.insn and out.rva set
  bool is64_;
  uint64_t imageBase_;
  ZydisDecoder decoder_;
  ZydisFormatter formatter_;
};

} // namespace sb::code
