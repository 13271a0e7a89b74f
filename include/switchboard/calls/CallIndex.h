// Every call site of the image, found once: direct calls and tail jumps with
// their callee, calls through IAT slots (directly or through an import
// thunk), and indirect calls; the callers of every function; the sites of
// every import; and, from the same one decode of every function, the data
// addresses each function names. Recognizers look sites and references up
// here instead of sweeping the code again.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace sb { class Analysis; }

namespace sb::calls {

enum class SiteKind : uint8_t {
  Direct,     // call rel32 to a function
  Thunk,      // call rel32 to an import thunk (`jmp [IAT]`)
  Import,     // call [IAT slot]
  Indirect,   // call reg / call [mem] other than an IAT slot
};

struct IndexedSite {
  uint32_t siteRva = 0;
  uint32_t functionRva = 0;   // the function that holds the site
  uint32_t calleeRva = 0;     // Direct/Thunk: the target; 0 otherwise
  uint32_t iatRva = 0;        // Import/Thunk: the IAT slot
  SiteKind kind = SiteKind::Direct;
  bool tail = false;          // a jmp
};

class CallIndex {
public:
  static CallIndex build(const Analysis &a);

  std::span<const IndexedSite> sites() const { return sites_; }   // sorted by siteRva
  const IndexedSite *siteAt(uint32_t siteRva) const;
  // Sites whose callee (direct, or the thunk) is rva.
  std::vector<const IndexedSite *> callersOf(uint32_t rva) const;
  // Sites that reach an IAT slot (directly or through a thunk).
  std::vector<const IndexedSite *> callersOfImport(uint32_t iatRva) const;
  // Functions (by RVA) that hold a site reaching any of these callees or slots.
  std::vector<uint32_t> functionsCalling(std::span<const uint32_t> callees, std::span<const uint32_t> slots) const;

  // Functions (by RVA, sorted) that call or jump through a register or a
  // non-import memory slot: where a code pointer loaded from anywhere may be
  // called.
  std::span<const uint32_t> functionsWithIndirectFlow() const { return indirect_; }
  // Functions (by RVA, sorted) that may call through one of these memory
  // slots: they call or jump through [slot] itself, or read a slot with an
  // ordinary instruction and call or jump through a register or frame
  // slot (`mov rax, [slot]; ...; call rax`).
  std::vector<uint32_t> functionsReadingSlots(std::span<const uint32_t> slots) const;

  // By a function's index in Analysis::functions(): the non-executable
  // addresses its instructions name (rip-relative or absolute displacements,
  // relocated immediates of ordinary instructions and indirect calls),
  // sorted and unique; and whether it calls through a register or memory
  // (IAT slots included).
  std::span<const uint32_t> dataRefsOf(size_t functionIndex) const;
  bool makesIndirectCalls(size_t functionIndex) const;

private:
  std::vector<IndexedSite> sites_;
  std::vector<uint32_t> indirect_;
  std::vector<uint32_t> refs_;        // every function's data references, one after another
  std::vector<uint32_t> refStart_;    // function index -> first of its refs_ (one past the end last)
  std::vector<char> indirectCalls_;   // function index -> makes an indirect call
  std::unordered_multimap<uint32_t, uint32_t> byCallee_;   // callee -> index
  std::unordered_multimap<uint32_t, uint32_t> byIat_;      // IAT slot -> index
  // Address -> functions that may call through what it holds (see
  // functionsReadingSlots).
  std::unordered_multimap<uint32_t, uint32_t> slotReaders_;
};

} // namespace sb::calls
