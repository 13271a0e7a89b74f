// SEH scope tables: the x64 __C_specific_handler table and the x86
// _except_handler3/_except_handler4 tables, read with their shape checked.
#pragma once
#include "switchboard/image/Image.h"

#include <optional>
#include <vector>

namespace sb::code { class Decoder; }

namespace sb::unwind {

// x64: ULONG Count; { BeginAddress, EndAddress, HandlerAddress, JumpTarget }[Count].
struct ScopeRecord {
  uint32_t begin = 0, end = 0;
  uint32_t handler = 0;   // __except: filter function RVA, or 1 (EXCEPTION_EXECUTE_HANDLER); __finally: the handler
  uint32_t target = 0;    // __except: where execution continues; 0 for __finally
  bool isFinally() const { return target == 0; }
  bool constantFilter() const { return !isFinally() && handler < 0x10; }
};

// Reads a scope table; nullopt unless every record is plausible (ranges in
// code, handlers in code or constant, at most 256 records). With a range
// given, records must also lie inside it.
std::optional<std::vector<ScopeRecord>> readScopeTable(const image::Image &img, uint32_t rva,
                                                       std::optional<std::pair<uint32_t, uint32_t>> within = {});

// x86: EH3 table: { EnclosingLevel, FilterFunc, HandlerFunc }[]; EH4 table:
// GSCookieOffset, GSCookieXOROffset, EHCookieOffset, EHCookieXOROffset, then
// the same records. A null filter marks a __finally.
struct X86ScopeRecord {
  int32_t enclosingLevel = -1;
  uint32_t filter = 0;    // RVA, 0 for __finally
  uint32_t handler = 0;   // RVA
  bool isFinally() const { return filter == 0; }
};

struct X86ScopeTable {
  uint32_t rva = 0;
  bool eh4 = false;
  int32_t gsCookieOffset = -2, gsCookieXorOffset = 0, ehCookieOffset = 0, ehCookieXorOffset = 0;
  std::vector<X86ScopeRecord> records;
  uint32_t registrationRva = 0;   // the instruction that installs the table
  std::optional<uint32_t> handlerRva;   // _except_handler3/4 when installed next to it
};

// Finds the scope table the function at rva installs in its prolog
// (`push -1|-2; push offset table; push offset handler` with the frame
// registration, `mov [ebp-N], offset table`, or `push size; push offset
// table; call __SEH_prolog4`) and reads it.
// EH3 tables carry no count and compilers lay them out back to back: a
// record whose __except block lies outside [rva, limit) (the function) ends
// the table.
std::optional<X86ScopeTable> findX86ScopeTable(const image::Image &img, const code::Decoder &dec, uint32_t rva,
                                               uint32_t limit);

// The shape of code a scope table names: does it use its parent's frame (a
// funclet or label: x64 takes the establisher frame in rdx, x86 runs on the
// parent's ebp without a frame of its own) or build its own (a function)?
bool usesParentFrame(const image::Image &img, const code::Decoder &dec, uint32_t rva);

} // namespace sb::unwind
