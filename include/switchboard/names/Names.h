// One naming service: every address gets its name here, and every output
// (listings, JSON, DOT, the project database, the exporters) asks it. A name
// from a symbol always wins over a recovered one; recovered names say so, so
// an exporter never overwrites a name a user or a symbol file gave.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sb::names {

// Ordered by precedence: a lower value wins when two sources name one address.
enum class Source : uint8_t {
  Pdb,             // a PDB function or public symbol
  Export,          // the export directory
  Coff,            // a COFF symbol table entry
  Import,          // an import thunk (`jmp [IAT]`) or an IAT slot: "user32!SendMessageW"
  Structor,        // Class::Class, Class::~Class, `scalar deleting destructor'
  Vftable,         // Class::`vftable'{for `Base'}
  Rtti,            // Class `RTTI Type Descriptor', `RTTI Complete Object Locator'
  MessageMap,      // CMainFrame::messageMap, CMainFrame::OnPaint, CMainWindow::ProcessWindowMessage
  Rpc,             // SwitchboardStore::RpcServerInterface, rpc_<uuid>_Opnum3, SwitchboardStore::Opnum3
  Com,             // CLSID_ShellLink, IID_IShellLinkW (GUIDs in data), WidgetFactory::CreateInstance
  Port,            // PortServerLoop_<port>: a function that receives on an LPC/ALPC port in a loop
  VirtualMethod,   // Class::vfunc_N
  WindowProc,      // WndProc_<class>
  DialogProc,      // DlgProc_<template>
  SubclassProc,    // SubclassProc_<n>
  HookProc,        // HookProc_<n>: a common-dialog hook procedure
  MessageHandler,  // WndProc_Main::WM_PAINT: a label inside its procedure
  Funclet,         // parent$catch$0, parent$dtor$1
  Callback,        // ThreadProc_<n>, TimerProc_<n>, ...
  Heuristic,       // discovered names that are not symbols: __imp_load_X, __tailMerge_dll
};
const char *sourceName(Source s);
// Whether the name was recovered by analysis rather than read from a symbol.
inline bool isRecovered(Source s) { return s >= Source::Structor; }

struct Name {
  std::string text;      // display: demangled, undecorated
  std::string raw;       // the symbol as found (mangled), if any
  Source source = Source::Heuristic;
  bool label = false;    // a label inside a function (message handler), not a function or data name
  bool recovered() const { return isRecovered(source); }
};

class NameService {
public:
  // Keeps the better of the existing name and this one (lower Source wins;
  // the first of equal rank stays).
  void add(uint64_t rva, Name name);
  const Name *at(uint64_t rva) const;
  // The name text, or nullopt.
  std::optional<std::string> textAt(uint64_t rva) const;
  // An exact name (display or raw) to its address.
  std::optional<uint64_t> find(std::string_view text) const;
  const std::map<uint64_t, Name> &all() const { return names_; }
  size_t size() const { return names_.size(); }

private:
  std::map<uint64_t, Name> names_;
  std::unordered_map<std::string, uint64_t> byText_;
};

// Identifier-safe form of a recovered name's variable part: "My Class#2" ->
// "My_Class_2" (window class names, dialog templates).
std::string identifierPart(std::string_view text);

} // namespace sb::names
