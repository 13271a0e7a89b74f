// The register parameters of each frame of a walked x64 stack (RCX, RDX, R8,
// R9 are gone from a dump's frames: only their sources remain). Each value
// comes from one of four places, and says which:
//   - the caller, before the call: a constant, an image address, an address
//     in the caller's frame, the caller's own parameter (recovered the same
//     way), or the value a nonvolatile register had at the caller's entry;
//   - a nonvolatile register holding the same value at the call, as the
//     walk recovered it in the caller's frame (saved by a deeper prolog);
//   - the function's own copy: a homing or stack slot its prolog stored it
//     to, or a nonvolatile register it moved it into (still there at the
//     function's current call, by the static analysis).
// Sources that disagree are reported as a conflict, never as a value.
#pragma once
#include "switchboard/dump/StackWalk.h"

#include <optional>
#include <string>
#include <vector>

namespace sb::dump {

struct ParamSource {
  uint64_t value = 0;
  std::string from;   // "constant in caller level2+0x2c", "[0x14fd28] homed by level3's prolog", ...
};

struct RecoveredParam {
  unsigned index = 0;                 // x64 0..3: rcx rdx r8 r9; x86: the stack argument's number from 0
  bool onStack = false;               // x86: a stack argument (cdecl/stdcall), read after the return address
  std::optional<uint64_t> stackAddress;   // onStack: its slot
  std::optional<uint64_t> value;      // set when every source agrees
  std::vector<ParamSource> sources;   // all that were found (more than one value: a conflict)
  std::string name;                   // the API table's name for it ("hWnd"), if the function is a known API
  std::string typeName;               // the API table's kind ("hwnd", "message"), if known
  bool conflict() const;
};

// x86: the frame's first n stack arguments (WinDbg kb's "Args to Child"),
// read after the slot its return address was found in; nullopt where that
// slot is not known or the memory is not in the dump.
std::vector<std::optional<uint64_t>> stackArguments(const StackFrame &f, const MemoryReader &memory, unsigned n);

// For each frame of the stack: x64, its four register parameters (empty for
// a frame whose function is not known); x86, its stack arguments (as many as
// the API table gives a known API, else three), each from its stack slot.
std::vector<std::vector<RecoveredParam>> recoverParams(const ThreadStack &stack, const MemoryReader &memory,
                                                       const api::ApiTable &api);

// Parameter i of a frame in recoverParams' result, when recovered.
std::optional<uint64_t> paramValue(const std::vector<std::vector<RecoveredParam>> &params, size_t frame, size_t i);

} // namespace sb::dump
