// Internal: what the object-model recognizers need to know about one
// function, gathered in one replay of the value tracker.
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "values/Tracker.h"

#include <vector>

namespace sb::cxx {

// A store of an image address into memory that is not the stack frame.
struct AddressStore {
  uint32_t site = 0;
  uint32_t valueRva = 0;        // the stored image address
  values::Value object;         // where it was stored (object + offset)
  bool dynamicOffset = false;   // object + a run-time offset (a vbtable displacement)
  // When the run-time offset is the entry at vbEntryOffset of the vbtable
  // the object's vbptr at vbptrOffset points to, plus displacement.
  int64_t vbptrOffset = -1, vbEntryOffset = 0, displacement = 0;
};

struct CallFact {
  uint32_t site = 0;
  uint32_t callee = 0;          // direct target or IAT slot; 0 when indirect through a register
  bool viaIat = false;
  bool tail = false;            // a jump to another function
  values::Value thisArg;        // RCX / ECX
  bool thisCall = true;         // x86: ECX was set for this call, or the caller does not pop arguments
  values::Value args[5];        // arguments 0..4 by the calling convention
};

struct MemAccess {
  uint32_t site = 0;
  int64_t offset = 0;           // from `this`
  unsigned size = 0;
  bool write = false;
};

struct IndirectCall {
  uint32_t site = 0;
  values::Value vfptr;          // the register the call goes through: a Load of the receiver's vfptr
  int64_t slotOffset = 0;
  values::Value thisArg;
  values::Value stackArg0;      // x86: [esp] at the call (this for stdcall COM methods)
};

struct FunctionFacts {
  uint32_t rva = 0;
  // Indirect calls whose target the value analysis resolved to one address
  // of code (`lea rax, f; call rax`, a CFG dispatch of a constant): (site, target).
  std::vector<std::pair<uint32_t, uint32_t>> resolvedCalls;
  std::vector<AddressStore> stores;
  std::vector<CallFact> calls;
  std::vector<MemAccess> thisAccesses;
  std::vector<IndirectCall> indirectCalls;
  bool returnsThis = false;      // every ret with RAX/EAX == this
  std::vector<std::pair<uint32_t, values::Value>> returns;   // (ret site, RAX/EAX) of every ret
  bool anyReturn = false;
  uint8_t flagBitsTested = 0;    // bits of the deleting-destructor flags parameter tested
};

FunctionFacts gatherFacts(const Analysis &a, const code::Decoder &dec, const code::Function &f);

} // namespace sb::cxx
