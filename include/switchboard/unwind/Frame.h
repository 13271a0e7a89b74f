// Stack frame layouts of x64 functions from their unwind data, parameter
// homing from their disassembled prolog, and the check that the two agree.
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/code/Registers.h"
#include "switchboard/unwind/ExceptionDirectory.h"

#include <optional>
#include <string>
#include <vector>

namespace sb::code { class Decoder; }

namespace sb::unwind {

struct StackSlot {
  std::string reg;      // "rbx", "xmm6": general-purpose and XMM registers
  int64_t offset = 0;   // relative to Child-SP (RSP after the prolog)
};

struct FrameLayout {
  uint32_t rva = 0;
  bool leaf = false;                 // no unwind data: nothing pushed, frame size 8
  std::vector<code::Gpr> pushes;     // in prolog order
  uint32_t alloc = 0;                // fixed allocation
  std::optional<code::Gpr> frameRegister;
  uint32_t frameOffset = 0;          // UNWIND_INFO's: the register = RSP at SET_FPREG + this
  int64_t frameRegisterAt = 0;       // where the frame register points, relative to Child-SP
  std::vector<StackSlot> saved;      // non-volatile registers saved with MOV (xmm too)
  std::vector<StackSlot> homed;      // parameter registers the prolog stores into the homing area
  bool machineFrame = false;
  uint32_t frameSize = 8;            // alloc + 8 per push + return address (WinDbg knf "Memory")
  std::vector<std::string> warnings;

  // Saved at or above frameSize: in the caller's homing area.
  bool inCallerHome(const StackSlot &s) const { return s.offset >= int64_t(frameSize); }
};

// One stack effect of a prolog instruction, as disassembled.
struct PrologEvent {
  enum Kind { Push, Alloc, SetFrame, Save, SaveXmm, SpillXmm, Home } kind;   // SpillXmm: a 64-bit store of xmm6-15
  uint32_t endOffset = 0;    // offset of the end of the instruction from the function start
  uint32_t reg = 0;          // unwind register number (xmm number for SaveXmm; for Home: 0-3 = rcx,rdx,r8,r9 or xmm0-3 + 16)
  int64_t value = 0;         // Alloc: bytes; SetFrame: offset; Save*/Home: address relative to RSP at entry
  std::string text;          // the instruction
};

// Decodes the prolog of the function at rva (prologSize bytes, plus the
// homing stores before it) into stack events.
// Without unwind data (prologSize unknown), pass stopAtTransfer: the look
// ends at the first call, branch or return.
std::vector<PrologEvent> simulateProlog(const image::Image &img, const code::Decoder &dec, uint32_t rva,
                                        uint32_t prologSize, bool stopAtTransfer = false);

FrameLayout computeFrame(const ExceptionDirectory &dir, const code::Decoder &dec, uint32_t functionRva);

// What a .pdata entry is to the functions: a function's own entry, a
// fragment of one (a chained entry, or an unchained part outside its main
// chunk such as GCC's f.cold), or an EH funclet (catch block, unwind action).
enum class EntryKind { Function, Fragment, Funclet };
const char *entryKindName(EntryKind k);   // "function", "fragment", "funclet"

// The frame of one .pdata entry (its own unwind chain: a chained fragment's
// frame is the chain's total), or of a function without unwind data.
struct EntryFrame {
  EntryKind kind = EntryKind::Function;
  uint32_t ownerRva = 0;                        // fragments and funclets: the function they belong to
  const pe::RuntimeFunction *entry = nullptr;   // null: no unwind data covers the address
  FrameLayout layout;                           // layout.rva: the entry's begin (or the function's start)
};

// The frame at an address: that of the .pdata entry whose range holds it, so
// a funclet or fragment gives its own frame, not its parent's; without one,
// the frame of the function containing it (or of code starting there).
EntryFrame frameAt(const Analysis &a, const ExceptionDirectory &dir, const code::Decoder &dec, uint32_t rva);
// Every .pdata entry's frame, and every function's that has no entry, in
// address order.
std::vector<EntryFrame> allFrames(const Analysis &a, const ExceptionDirectory &dir, const code::Decoder &dec);

struct PrologMismatch {
  uint32_t begin = 0;
  std::string message;
};

// Compares each primary entry's unwind codes with its disassembled prolog:
// every code must sit right after the instruction it describes, with the same
// register and size, and every stack-changing prolog instruction needs a code.
std::vector<PrologMismatch> checkProlog(const ExceptionDirectory &dir, const code::Decoder &dec,
                                        const pe::RuntimeFunction &entry);

} // namespace sb::unwind
