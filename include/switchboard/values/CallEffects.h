// What the value analysis needs to know about a call that it cannot see in
// the calling function: how the callee treats the caller's stack and
// registers. The call-site layer implements it (calls::CallConventions).
#pragma once
#include <cstdint>
#include <optional>

namespace sb::values {

// What a call does to the caller's stack on x86: the bytes the callee pops
// (stdcall, thiscall, fastcall), 0 for cdecl, nullopt when unknown (then a
// following `add esp, N` says cdecl, else the bytes pushed since the last
// call are taken as popped).
class CallEffects {
public:
  virtual ~CallEffects() = default;
  virtual std::optional<int> stackBytesPopped(uint32_t callee, bool viaIat) const = 0;
  // MSVC's x86 `__EH_prolog` helper builds the caller's frame: after the
  // call EBP is entry-SP - 4 and ESP is EBP - 0xC.
  virtual bool isFrameHelper(uint32_t callee) const { (void)callee; return false; }
  // The volatile registers (bit i: code::Gpr i) a direct call of
  // callee leaves as they were: a local function that provably never
  // writes them (GCC's interprocedural register allocation relies on it).
  virtual uint32_t registersKept(uint32_t callee) const { (void)callee; return 0; }
};

} // namespace sb::values
