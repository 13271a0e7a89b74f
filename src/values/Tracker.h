// An intra-procedural forward value analysis over one function's CFG (all
// blocks of all its chunks): registers and entry-SP-relative stack slots as
// symbolic Values, merged at join points, with bounded work per function.
// Consumers replay the function and read the state before each instruction.
// Private to the library (it speaks Zydis); what it tells the outside world
// comes as Values (switchboard/values/Value.h).
#pragma once
#include "code/Decoder.h"
#include "switchboard/code/Function.h"
#include "switchboard/image/Image.h"
#include "switchboard/values/CallEffects.h"
#include "switchboard/values/Value.h"

#include <array>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

namespace sb::values {

class State {
public:
  Value reg(ZydisRegister r) const;
  void setReg(ZydisRegister r, const Value &v);
  // The stack slot at entry-SP-relative offset `off` (x64 stack parameters
  // and x86 parameters read as Param values when the slot was never written).
  Value slot(int64_t off, bool is64) const;
  void setSlot(int64_t off, const Value &v, unsigned size = 8);
  void forgetSlots(int64_t from, int64_t to);   // [from, to)
  // A `size`-byte field of a structure on the stack: the slot written there,
  // narrowed, or the high half of an 8-byte constant written just below.
  Value field(int64_t off, unsigned size, bool is64) const;
  Value sp() const { return regs_[4]; }
  bool reachable() const { return reachable_; }

private:
  friend class Tracker;
  // Merges another path's state into this one (the state at the start of
  // block `blockRva`); true when this state changed. A register whose paths
  // disagree becomes a value of its own for this block (a phi), so that what
  // is computed from it later still has an identity.
  bool join(const State &o, uint32_t blockRva);
  std::array<Value, 16> regs_{};
  struct StackSlot {
    int64_t off = 0;
    Value value;
    unsigned size = 8;
    bool operator==(const StackSlot &) const = default;
  };
  std::vector<StackSlot> slots_;   // sorted by offset
  uint32_t zeroXmm_ = 0;           // XMM registers known to be zero (xorps x, x)
  std::array<uint32_t, 32> xmmImage_{};   // XMM registers loaded from read-only data: its RVA (0: none)
  bool reachable_ = false;
  bool entryFrame_ = true;    // SP is relative to the function's entry (not a funclet's)
  int32_t pushedSinceCall_ = 0;   // x86: argument bytes pushed since the last call (-1 unknown)
  uint32_t cookieCheckAt_ = 0;    // the instruction after `xor rcx, rsp` (a GS cookie check's call)
};

struct Insn {
  uint32_t rva = 0;
  const ZydisDecodedInstruction *insn = nullptr;
  const ZydisDecodedOperand *ops = nullptr;   // the visible operands
  uint32_t next() const { return rva + insn->length; }
};

class Tracker {
public:
  Tracker(const image::Image &img, const code::Decoder &dec, const code::Function &f, unsigned maxBlockVisits = 8,
          const CallEffects *effects = nullptr);

  // Replays every instruction of every reachable block with the state before it.
  void forEach(const std::function<void(const Insn &, const State &)> &fn) const;

  // The address a memory operand names, and the value an operand reads.
  Value address(const State &s, const Insn &in, const ZydisDecodedOperand &mem) const;
  Value read(const State &s, const Insn &in, const ZydisDecodedOperand &op) const;
  // The image address a relocated pointer in read-only data holds.
  std::optional<uint32_t> constantPointer(uint32_t rva) const;
  std::optional<Value> constantData(uint32_t rva, unsigned size) const;
  bool isConstantData(uint32_t rva) const;
  // Argument `index` at a call instruction (x64: RCX, RDX, R8, R9, stack;
  // x86: the pushed arguments from [esp]); `thisArg` is RCX on x64 and ECX on x86.
  // At a tail jump (tailJump) the stack arguments are those of the
  // function's own caller: one return address higher.
  Value argument(const State &s, unsigned index, bool tailJump = false) const;
  Value thisArgument(const State &s) const;
  // The state just before `site` along each path into it that the merged
  // state blurs: each predecessor of the nearest join above it (at most a
  // few blocks up), and both outcomes of every conditional move on the way.
  // Empty when no join or conditional move is involved; at most maxPaths.
  std::vector<State> pathStates(uint32_t site, size_t maxPaths = 8) const;
  bool is64() const { return is64_; }
  bool truncated() const { return truncated_; }

private:
  void run();
  void transfer(const Insn &in, State &s) const;
  // Replays [from, to) of one block on each state, forking at conditional
  // moves and at conditions made numbers (setcc, sbb r,r, and of few
  // bits); false when a decode fails.
  bool replay(uint32_t from, uint32_t to, std::vector<State> &states, size_t maxPaths, bool &forked) const;
  std::optional<Value> foldConstants(const State &s, const Insn &in) const;
  void call(const Insn &in, State &s) const;
  bool isStackProbe(const Insn &in, const State &s) const;

  const image::Image &img_;
  const code::Decoder &dec_;
  const code::Function &f_;
  bool is64_;
  unsigned maxVisits_;
  const CallEffects *effects_;
  std::vector<State> in_;   // per block
  bool truncated_ = false;
};

} // namespace sb::values
