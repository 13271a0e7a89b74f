// One graph of the hidden edges every recognizer recovers: calls the call
// graph shows, and the ones it does not (messages, registrations, virtual
// calls, throws, funclets, initializers, callbacks). Each recognizer keeps its
// detailed model and also emits its edges here; every output renders from it.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sb::graph {

enum class EdgeKind : uint8_t {
  Call,            // call rel32 / call [IAT]
  TailCall,        // jmp to another function
  IndirectCall,    // call reg/[mem] whose target the value analysis resolved
  VirtualCall,     // call through a vftable slot: to its candidates
  Message,         // send site -> the case that handles it (or the procedure)
  Registration,    // RegisterClass/CreateWindow/DialogBox site -> procedure
  Subclass,        // SetWindowLongPtr(GWLP_WNDPROC)/SetWindowSubclass site -> procedure
  Throw,           // throw site -> catch funclet
  Funclet,         // parent function -> its EH funclet
  StaticInit,      // static initializer table entry -> constructor it runs
  AtExit,          // static initializer -> destructor it registers with atexit
  Callback,        // API taking a code pointer (CreateThread, SetTimer, ...) -> the function
  RpcDispatch,     // RPC server interface -> the manager routine of each opnum
  RpcRegister,     // RpcServerRegisterIf* site -> the interface it registers
  RpcCall,         // RPC client call site -> the server routine (this image's, or another module's)
  ComCall,         // call through a COM interface pointer -> CLSID!Interface::Method (leaves the image)
  ComFactory,      // DllGetClassObject -> each class factory's CreateInstance
  PortMessage,     // LPC/ALPC connect or send site -> the server loop of the port with that name
};
inline constexpr size_t kEdgeKindCount = size_t(EdgeKind::PortMessage) + 1;
// "call", "tail_call", "indirect_call", "vcall", "message", "registration",
// "subclass", "throw", "funclet", "static_init", "atexit", "callback",
// "rpc_dispatch", "rpc_register", "rpc_call", "com_call", "com_factory",
// "port_message".
const char *edgeKindName(EdgeKind k);
std::optional<EdgeKind> parseEdgeKind(std::string_view name);

// How sure an edge is: the exact target; a target chosen by type (C++ catch
// by thrown type, vcall narrowed to a receiver class); by message id (every
// procedure that handles the message); one of several candidates.
enum class Exactness : uint8_t { Exact, ByType, ByMessage, Candidate };
const char *exactnessName(Exactness e);

enum class Evidence : uint8_t {
  DirectCall,      // rel32 call/jmp
  ImportSlot,      // call [IAT] or through an import thunk
  ValueTracking,   // the target operand's value, as the value analysis tracked it
  VftableSlot,     // the slot of the vftables the receiver may have
  SendArgument,    // the message id and window arguments of a send
  ApiArgument,     // a code-pointer argument of an API the table knows
  EhTable,         // FuncInfo / scope table / ThrowInfo data
  InitTable,       // a C/C++ initializer table (.CRT$XC*) entry
  ProcedureField,  // a structure field the API table marks as a procedure
  RpcInterface,    // MIDL's interface structures: dispatch table, stub descriptor, same UUID and version
  ComInterface,    // an interface pointer an activation returned, its method table
  PortName,        // the same LPC/ALPC port name at the client's and the server's port calls
};
const char *evidenceName(Evidence e);

struct Edge {
  EdgeKind kind = EdgeKind::Call;
  uint64_t from = 0;              // RVA of the site (or of the parent, for funclets)
  uint64_t to = 0;                // RVA of the target; with toSet: 0
  std::string toModule;           // "user32.dll" for an edge that leaves the image (to: 0)
  std::string toName;             // the imported name, with toModule
  uint32_t toSet = kNoSet;        // VirtualCall with several candidates: index into Graph::sets()
  std::string label;              // short: "WM_COPYDATA", "slot 3", "std::exception"
  Exactness exactness = Exactness::Exact;
  Evidence evidence = Evidence::DirectCall;
  std::string detail;             // free text: the receiver, the class, the API
  static constexpr uint32_t kNoSet = UINT32_MAX;
};

// What graph queries answer: edges out of (or into) an address, transitively.
struct Query {
  std::optional<EdgeKind> kind;   // only this kind
  std::optional<uint64_t> from;   // start at this address (function: its sites too)
  std::optional<uint64_t> to;     // edges reaching this address
  unsigned depth = 1;             // levels to follow from `from` / back from `to`
};

class Graph {
public:
  // Candidate sets are shared: many vcall sites name one set.
  uint32_t addSet(std::vector<uint64_t> targets);
  void add(Edge e);
  // An exact edge between two addresses of the image; nothing when either is 0.
  void addExact(EdgeKind kind, uint64_t from, uint64_t to, Evidence evidence, std::string label,
                std::string detail = {});
  // Sorts by (from, kind, to), removes duplicates and builds the indices.
  void finish();

  std::span<const Edge> edges() const { return edges_; }
  const std::vector<std::vector<uint64_t>> &sets() const { return sets_; }
  // The targets of an edge: its `to`, or the members of its set.
  std::span<const uint64_t> targets(const Edge &e) const;
  size_t count(EdgeKind k) const;

  // Indices into edges() of edges leaving sites in [begin, end) / reaching rva.
  std::vector<size_t> outOf(uint64_t begin, uint64_t end) const;
  std::vector<size_t> into(uint64_t rva) const;

private:
  std::vector<Edge> edges_;
  std::vector<std::vector<uint64_t>> sets_;
  std::vector<std::pair<uint64_t, size_t>> byTarget_;      // (target, edge index) of edges without a set, sorted
  std::vector<std::pair<uint64_t, uint32_t>> setMembers_;  // (target, set) of sets some edge uses, sorted
  std::vector<std::vector<size_t>> edgesOfSet_;            // set -> the edges that use it
};

} // namespace sb::graph
