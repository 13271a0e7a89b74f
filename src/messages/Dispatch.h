// Internal: which messages reach which handler of a procedure's dispatch.
// The tests of the message along compare chains, search trees, bit tests,
// masked compares and jump tables are replayed over the control-flow graph
// with the set of messages each block can see; a handler is a block the
// dispatch leaves for with a small set, that does not dispatch again.
#pragma once
#include "ValueSet.h"
#include "switchboard/code/Function.h"

#include <cstdint>
#include <vector>

namespace sb::messages {

enum class Cond : uint8_t {
  Eq, Ne, Below, AboveEq, BelowEq, Above, Less, GreaterEq, LessEq, Greater, Sign, NotSign,
  BitSet, BitClear,   // bit ((msg + bias) mod width) of mask
};

// A conditional branch that ends a block and tests the message.
struct MsgTest {
  enum class Shape : uint8_t { Compare, Bit, Masked };
  Shape shape = Shape::Compare;
  uint32_t site = 0, taken = 0, fallthrough = 0;
  Cond cond = Cond::Eq;    // when the branch is taken
  int64_t bias = 0;        // the tested value is msg + bias
  uint32_t constant = 0;   // Compare: the other operand; Masked: what (x & mask) is compared with
  bool constantFirst = false;   // `cmp c, x`
  bool zfOnly = false;     // the flags of inc/dec/add: only Eq/Ne mean anything
  uint64_t mask = 0;       // Bit: the bits; Masked: the and-mask
  unsigned width = 32;     // Bit: the operand width (the bit index is taken modulo it)
  bool viaCarry = false;   // `bt`: CF holds the bit (otherwise ZF says the masked value is 0)
};

// One entry of a jump table indexed by the message.
struct TableCase {
  uint32_t jumpSite = 0, message = 0, target = 0;
};

struct HandlerCase {
  uint32_t handler = 0;
  ValueSet messages;
};

// Handlers reached with at most maxValues messages (larger sets are the
// default path).
std::vector<HandlerCase> solveDispatch(const code::Function &f, const std::vector<MsgTest> &tests,
                                       const std::vector<TableCase> &table, uint64_t maxValues);

} // namespace sb::messages
