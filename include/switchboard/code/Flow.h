// What an x86 instruction does to control flow: the one fact about each
// instruction the function model, the value tracker and the disassembly
// listing all need.
#pragma once
#include <cstdint>

namespace sb::code {

enum class Flow : uint8_t {
  Normal,        // falls through
  CondJump,      // jcc/loop/jcxz rel: target + fallthrough
  Jump,          // jmp rel
  IndirectJump,  // jmp reg / jmp [mem]
  Call,          // call rel
  IndirectCall,  // call reg / call [mem]
  Return,        // ret / iret
  Stop,          // int3, ud2, hlt, int 29h (fastfail): no successor
};

} // namespace sb::code
