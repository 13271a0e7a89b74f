// A thread's call stack from a dump, like WinDbg's `knf`: each frame's
// Child-SP, return address and call site, how its caller was found, and the
// nonvolatile registers as they were in it, each with where it was found
// (`.frame /r`).
#pragma once
#include "switchboard/dump/Minidump.h"
#include "switchboard/dump/Modules.h"
#include "switchboard/dump/Unwinder.h"

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace sb::dump {

// Where a frame's register value came from.
struct RegisterOrigin {
  enum Kind : uint8_t { Unknown, Context, Saved } kind = Unknown;
  unsigned frame = 0;     // Saved: the frame whose prolog (or epilog) saved it
  uint64_t address = 0;   // Saved: the stack slot
};

struct StackFrame {
  unsigned index = 0;
  uint64_t pc = 0;              // frame 0: the current instruction; others: the return address into the function
  uint64_t childSp = 0;         // the stack pointer in this frame
  uint64_t returnAddress = 0;   // where this frame returns (0: the walk ends here)
  std::optional<uint64_t> returnSlot;   // where the return address was read (x86: its stack arguments follow)
  uint64_t frameSize = 0;       // the caller's Child-SP minus this one (WinDbg knf "Memory")
  const LoadedModule *module = nullptr;
  std::optional<LoadedModule::Symbol> symbol;
  StepHow how = StepHow::Unwind;   // how the return address was found
  Registers regs;
  std::array<RegisterOrigin, 16> origins{};
};

struct ThreadStack {
  uint32_t threadId = 0;
  std::vector<StackFrame> frames;
  std::string stopped;   // why the walk ended before a return address of 0, if it did
};

struct WalkOptions {
  unsigned maxFrames = 256;
  uint64_t scanBytes = 0x2000;   // how far a stack scan looks for a return address
};

// Reads a dump's memory, and code from the modules' image files where the
// dump lacks it (a normal dump holds stacks, not code).
class DumpMemory final : public MemoryReader {
public:
  DumpMemory(const Minidump &dump, const ModuleSet &modules) : dump_(dump), modules_(modules) {}
  bool read(uint64_t va, void *out, size_t length) const override;

private:
  const Minidump &dump_;
  const ModuleSet &modules_;
};

ThreadStack walkStack(const Minidump &dump, const ModuleSet &modules, const MemoryReader &memory, uint32_t threadId,
                      const Registers &start, const WalkOptions &options = {});

// "ntdll!NtWaitForSingleObject+0x14", "dump_app!WndProc_A::WM_USER+5+0x1c"
// (a label inside the function), "ntdll+0x1234", or the bare address.
std::string callSiteName(const StackFrame &f);

} // namespace sb::dump
