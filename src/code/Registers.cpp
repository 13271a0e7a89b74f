#include "switchboard/code/Registers.h"

namespace sb::code {

const char *gprName(Gpr r, bool is64) {
  static const char *r64[] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                              "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
  static const char *r32[] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
  unsigned i = gprIndex(r);
  if (i >= kGprCount)
    return "?";
  return is64 || i >= 8 ? r64[i] : r32[i];
}

} // namespace sb::code
