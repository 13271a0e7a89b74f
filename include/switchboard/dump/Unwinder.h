// One step of a stack walk: from a frame's registers to its caller's. A pure
// function of (the module's unwind data and code, the registers, a memory
// reader), so each piece is testable alone, as in framehop or rust-minidump.
//
// x86 (no unwind data): the epilog at the pc emulated, else the PDB's frame
// data (FPO programs) when the module has a PDB, else the function's
// prolog traced from its start (pushes, EBP, stack realignment) and the
// frame placed from EBP or ESP, else the EBP chain; each candidate kept only
// when its return address passes the caller's check (it follows a call).
//
// x64: the function's unwind codes applied as RtlVirtualUnwind does (every
// code, chained and indirect entries, machine frames, frame registers); a pc
// inside an epilog unwound by emulating the rest of the epilog; code without
// unwind data treated as a leaf (return address at RSP) when the caller
// says it may be one.
#pragma once
#include "switchboard/dump/Registers.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace sb::code { class Decoder; }
namespace sb::pdb { struct FrameRecord; }
namespace sb::pe { class PeImage; }
namespace sb::unwind { class ExceptionDirectory; }

namespace sb::dump {

// Reads the process's memory (a dump's ranges, module images behind them).
class MemoryReader {
public:
  virtual ~MemoryReader() = default;
  virtual bool read(uint64_t va, void *out, size_t length) const = 0;
  std::optional<uint64_t> pointer(uint64_t va, unsigned size) const {
    uint64_t v = 0;
    if (!read(va, &v, size))
      return std::nullopt;
    return v;
  }
};

// How a frame's caller was found.
enum class StepHow : uint8_t { Unwind, Epilog, Leaf, FramePointer, Scan, MachineFrame, FrameData };
// "unwind", "epilog", "leaf", "frame_pointer", "scan", "machine_frame", "frame_data" (x86, a PDB's FPO program)
const char *stepHowName(StepHow h);

// A register the step restored from the stack: its value in the caller is
// the one at address.
struct RestoredRegister {
  uint8_t reg = 0;
  uint64_t address = 0;
};

struct UnwindStep {
  StepHow how = StepHow::Unwind;
  Registers caller;                       // pc = the return address; volatile registers forgotten
  std::vector<RestoredRegister> restored;
  std::optional<uint32_t> functionRva;    // the primary entry's begin, when unwind data was used
  std::optional<uint64_t> returnSlot;     // x86: where the return address was read (the arguments follow it)
  uint32_t prologSize = 0;
};

// A module as the unwinder sees it: its image (code bytes, unwind data) and
// where the process loaded it.
struct UnwindModule {
  const pe::PeImage *image = nullptr;
  const unwind::ExceptionDirectory *directory = nullptr;
  uint64_t base = 0;
  const code::Decoder *decoder = nullptr;   // x86: for tracing prologs and epilogs
  const std::vector<pdb::FrameRecord> *frameData = nullptr;   // x86: the PDB's FPO records, if any
};

// One x64 step. topFrame: regs are an exact context (the pc is the faulting
// or current instruction, not a return address). An error says why no step
// was possible (no unwind data, unreadable stack, a damaged entry).
struct StepResult {
  std::optional<UnwindStep> step;
  std::string error;
  bool noUnwindData = false;   // the pc has no .pdata entry (a leaf, or code without unwind data)
};
StepResult unwindX64(const UnwindModule &module, const Registers &regs, const MemoryReader &memory, bool topFrame);

// The function chunk holding the pc (RVAs, end exclusive), from the
// module's function model.
struct CodeRange {
  uint32_t begin = 0, end = 0;
};
// The function chunk holding the pc, asked for only when a prolog must be
// traced (finding it can mean discovering the module's functions).
using FunctionAt = std::function<std::optional<CodeRange>()>;
// Whether a value can be the return address of a frame whose pc is given.
using ReturnCheck = std::function<bool(uint64_t returnAddress, uint64_t pc)>;

// One x86 step (see above).
StepResult unwindX86(const UnwindModule &module, const FunctionAt &functionAt, const Registers &regs,
                     const MemoryReader &memory, bool topFrame, const ReturnCheck &plausible);
// The EBP chain alone: [ebp+4] the return address, [ebp] the caller's EBP.
std::optional<UnwindStep> framePointerStepX86(const Registers &regs, const MemoryReader &memory);

// The leaf step: the return address at RSP, nothing else changed.
std::optional<UnwindStep> leafStep(const Registers &regs, const MemoryReader &memory);

} // namespace sb::dump
