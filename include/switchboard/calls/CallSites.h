// Call-site argument recovery: every call of an import (directly, through
// import thunks, or through a global that holds a GetProcAddress result) or
// of a function, with each argument's value from the value tracker, rendered
// with the API table's knowledge (message names, strings, callbacks, the
// fields of structures built on the stack).
#pragma once
#include "switchboard/analysis/Analysis.h"
#include "switchboard/api/ApiTable.h"
#include "switchboard/values/CallEffects.h"
#include "switchboard/values/Value.h"

#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

namespace sb::values { class State; }   // src/values/Tracker.h

namespace sb::calls {

// The x86 stack effect of calls: imports by the API table (stdcall unless a
// C runtime or marked cdecl), local functions by their `ret N`.
class CallConventions : public values::CallEffects {
public:
  CallConventions(const Analysis &a, const api::ApiTable &table);
  std::optional<int> stackBytesPopped(uint32_t callee, bool viaIat) const override;
  bool isFrameHelper(uint32_t callee) const override;
  uint32_t registersKept(uint32_t callee) const override;

private:
  uint32_t registersWritten(uint32_t callee, int depth) const;   // UINT32_MAX: unknown
  std::optional<int> importPops(const pe::Import &imp) const;
  const Analysis &a_;
  const api::ApiTable &table_;
  const code::Decoder &dec_;   // the session's
  mutable std::mutex mutex_;
  mutable std::unordered_map<uint32_t, std::optional<int>> cache_;
  mutable std::unordered_map<uint32_t, uint32_t> written_;
};

// What a call site calls.
struct Target {
  std::string name;                  // "SendMessageW", or the function's name
  const api::Api *api = nullptr;
  std::set<uint32_t> directTargets;  // call/jmp rel32 targets: the function, import thunks, jump stubs
  std::set<uint32_t> memorySlots;    // call/jmp [mem]: IAT slots, globals holding GetProcAddress results
};

// Resolves an API name ("SendMessageW", "user32!SendMessageW") or a function
// (name, RVA or VA); nullopt when nothing in the image is called so.
// procGlobals: the result of procAddressGlobals when the caller has it
// already (resolving many names); computed here otherwise.
std::optional<Target> resolveTarget(const Analysis &a, const api::ApiTable &table, std::string_view text,
                                    const std::unordered_map<uint32_t, std::string> *procGlobals = nullptr);

// What an argument is, as recovered: the kind of value tracked, or what
// rendering found there (a string, a GUID).
enum class ArgKind : uint8_t {
  Constant, String, Guid, ImageAddress, StackAddress, Param, NonVolatile, CallResult, GlobalLoad, Memory, Unknown
};
// Its name in JSON output: "constant", "string", "guid", "image_address",
// "stack_address", "param", "nonvolatile", "call_result", "global_load",
// "memory", "unknown".
const char *argKindName(ArgKind k);
// The kind of a tracked value before rendering (never String or Guid).
ArgKind argKindOf(const values::Value &v);

struct Argument {
  std::string name;        // from the API table, or "arg0".. for functions
  ArgKind kind = ArgKind::Unknown;
  std::optional<int64_t> value;   // the number, when there is one (constants, addresses as RVAs)
  std::optional<std::string> str; // kind String: the string itself (UTF-8; a wide one converted)
  std::string text;        // rendered: L"Ready", WM_SETTEXT (0x000C), MainWndProc, [this+0x18]
  std::vector<std::pair<std::string, std::string>> fields;   // a structure's fields, rendered
  std::vector<std::optional<int64_t>> fieldValues;             // ... and their numbers (RVAs for addresses)
  std::vector<std::optional<std::string>> fieldStrings;        // ... and their strings (as str)
  std::vector<values::Value> fieldRaw;                         // ... and their values as tracked
  values::Value raw;       // the value as tracked
};

struct CallSite {
  uint32_t siteRva = 0, functionRva = 0;
  bool tail = false;       // a jmp to the target
  std::string callee;
  std::vector<Argument> args;
  // x86: the register parameters args[] begins with, in order: kParamEcx,
  // kParamEdx (thiscall, fastcall) or kParamEax, kParamEdx, kParamEcx (GCC).
  std::vector<uint32_t> registerParams;
  // When the merged state leaves an argument unknown and the paths into the
  // call (or its conditional moves) differ: the arguments along each.
  std::vector<std::vector<Argument>> paths;
};

struct FindOptions {
  unsigned threads = 0;
  size_t maxStackArgs = 12;   // arguments read for targets the table does not know (besides registers)
};

std::vector<CallSite> findCallSites(const Analysis &a, const api::ApiTable &table, const Target &target,
                                    FindOptions options = {});
// The same for several targets in one pass over the code: one list per target.
std::vector<std::vector<CallSite>> findCallSitesMany(const Analysis &a, const api::ApiTable &table,
                                                     const std::vector<const Target *> &targets, FindOptions options = {});

// Globals that hold GetProcAddress(h, "Name") results: global RVA -> name.
std::unordered_map<uint32_t, std::string> procAddressGlobals(const Analysis &a, const api::ApiTable &table,
                                                             unsigned threads = 0);

// Globals that keep the result of a call of the target: global RVA -> call site.
std::unordered_map<uint32_t, uint32_t> callResultGlobals(const Analysis &a, const api::ApiTable &table,
                                                         const Target &target, unsigned threads = 0);

// Every store of a call's result to memory other than the frame: a global
// (address kind Image) or a field of a structure ([param+0x18], [ret+0x20]).
struct ResultStore {
  uint32_t siteRva = 0;       // the call
  uint32_t functionRva = 0;   // the function that calls and stores
  values::Value address;      // where the result goes
};
std::vector<ResultStore> callResultStores(const Analysis &a, const api::ApiTable &table, const Target &target,
                                          unsigned threads = 0);

// Renders one value as an argument of the given kind.
Argument renderArgument(const Analysis &a, const api::ApiTable &table, const values::State &s,
                        const values::Value &v, const api::Param &param, bool is64);

} // namespace sb::calls
