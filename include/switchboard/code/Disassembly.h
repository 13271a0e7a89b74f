// Disassembly of an image's code as text: each instruction in Intel syntax
// with explicit operand sizes (what `switchboard disasm` prints), its control
// flow, and the addresses its operands name.
#pragma once
#include "switchboard/code/Flow.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sb::image { class Image; }

namespace sb::code {

class Decoder;

struct Instruction {
  uint32_t rva = 0;
  uint8_t length = 0;
  std::string text;                    // "mov rcx, qword ptr [rip+0x1f3a]": branch targets as absolute VAs
  Flow flow = Flow::Normal;
  bool callOrJump = false;             // a call or an unconditional jump, direct or not
  std::optional<uint32_t> target;      // rel branch/call target RVA
  std::optional<uint32_t> memTarget;   // RVA of [mem] for rip-relative/absolute jmp/call [mem]
  // The VAs the visible operands name, in operand order: relative branch and
  // call targets, rip-relative memory, and on x86 absolute memory ([disp])
  // and immediates at or above the image base. Not checked to be mapped.
  std::vector<uint64_t> references;
  uint32_t next() const { return rva + length; }
};

// Decodes the image's bytes in its own mode (x86 or x64); the image must
// outlive it. Thread-safe: decoding changes nothing.
class Disassembler {
public:
  explicit Disassembler(const image::Image &img);
  ~Disassembler();
  Disassembler(const Disassembler &) = delete;
  Disassembler &operator=(const Disassembler &) = delete;

  // The instruction at rva; nullopt when the bytes there do not decode.
  std::optional<Instruction> at(uint32_t rva) const;
  // Up to count instructions from rva on, in a straight line; ends early at
  // the first that does not decode.
  std::vector<Instruction> run(uint32_t rva, size_t count) const;

private:
  const image::Image &img_;
  std::unique_ptr<const Decoder> dec_;
};

} // namespace sb::code
