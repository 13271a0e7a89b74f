// x86 frame data from a PDB (FRAMEDATA records): the postfix program of the
// record covering the pc, run over the frame's registers and the dump's
// memory, gives the caller's registers. Private to the x86 unwinder.
#pragma once
#include "switchboard/dump/Unwinder.h"
#include "switchboard/pdb/PdbNames.h"

#include <optional>
#include <string>
#include <vector>

namespace sb::dump {

// The record for rva: the last one starting at or before it that covers it.
const pdb::FrameRecord *frameRecordFor(const std::vector<pdb::FrameRecord> &frames, uint32_t rva);

// The program's result as a step: $eip the return address (read from the
// slot the step reports), $esp, and the registers it assigns, each with the
// slot it was read from. ".raSearch" is where the return address lies
// (ESP + locals + saved registers); when that slot holds nothing plausible
// the next 64 are tried, as Breakpad's walker does. nullopt when the program
// does not parse, reads a register that is not known or memory the dump
// does not hold, or gives no plausible return address.
std::optional<UnwindStep> runFrameProgram(const pdb::FrameRecord &record, const Registers &regs,
                                          const MemoryReader &memory, const ReturnCheck &plausible);

} // namespace sb::dump
