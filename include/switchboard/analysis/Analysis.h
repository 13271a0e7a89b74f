// The analysis session every command and recognizer reads from: the image,
// its symbol names, and every model, each computed once on first use
// (thread-safe) and cached. A recognizer asks the session for the models it
// needs; it never rebuilds another's. A session opened from a project
// database (.sbdb) answers the same accessors from the stored models.
#pragma once
#include "switchboard/api/ApiTable.h"
#include "switchboard/code/Discovery.h"
#include "switchboard/code/Function.h"
#include "switchboard/pe/PeImage.h"
#include "switchboard/support/Expected.h"

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace sb::api { class ApiTable; }
namespace sb::code { class Decoder; }
namespace sb::unwind { class ExceptionDirectory; class HandlerCatalog; struct SehModel; }
namespace sb::eh { struct EhModel; }
namespace sb::cxx { struct ObjectModel; }
namespace sb::messages { struct MessageFlow; }
namespace sb::msgmaps { struct MessageMaps; }
namespace sb::rpc { struct RpcModel; }
namespace sb::com { struct ComModel; }
namespace sb::ports { struct PortModel; }
namespace sb::calls { class CallIndex; class CallConventions; struct CallbackRegistration; }
namespace sb::values { class Tracker; }
namespace sb::graph { class Graph; }
namespace sb::names { class NameService; }
namespace sb::pdb { struct PdbNames; }

namespace sb {

struct AnalysisOptions {
  unsigned threads = 0;
  std::function<void(const char *phase, size_t count)> progress;
  // The API table (built-in plus --api files); nullptr: the built-in one.
  std::shared_ptr<const api::ApiTable> api;
  // A PDB to name functions from; empty: looked for (next to the file, by the
  // CodeView path's file name, in SWITCHBOARD_SYMBOL_PATH) when findPdb.
  // open() reads it into `pdb`; fromImage() takes `pdb` as read.
  std::string pdbPath;
  bool findPdb = false;
  std::shared_ptr<const pdb::PdbNames> pdb;
  // Problems that do not stop the analysis (a stored model that does not
  // decode and is recomputed, ...). nullptr: dropped.
  std::function<void(const std::string &)> warn;
  // A project database of several modules: the one to open (its file or
  // module name); empty: the first.
  std::string module;
};

// Models a session does not compute because they were stored (a project
// database). Each returns nullptr when the store lacks that model.
class ModelStore {
public:
  virtual ~ModelStore() = default;
  virtual std::unique_ptr<std::vector<code::Function>> functions();
  virtual std::unique_ptr<eh::EhModel> ehModel();
  virtual std::unique_ptr<cxx::ObjectModel> objectModel();
  virtual std::unique_ptr<messages::MessageFlow> messageFlow();
  virtual std::unique_ptr<graph::Graph> graph();
  virtual std::unique_ptr<names::NameService> names();
};

class Analysis {
public:
  // A PE file, or a project database (.sbdb) written by `analyze`: the
  // session then answers from the stored models.
  static Expected<std::unique_ptr<Analysis>> open(const std::string &path, AnalysisOptions options = {});
  static std::unique_ptr<Analysis> fromImage(pe::PeImage image, std::string moduleName, AnalysisOptions options = {},
                                             std::unique_ptr<ModelStore> store = nullptr);
  ~Analysis();

  const pe::PeImage &image() const { return image_; }
  // "notepad" for notepad.exe: the prefix WinDbg-style listings use.
  const std::string &moduleName() const { return module_; }
  // Worker threads for the analyses (0: one per core).
  unsigned threads() const { return options_.threads; }
  // The API table the analyses read: the one given in the options, or the
  // built-in one.
  const api::ApiTable &apiTable() const;

  // The x86 or x64 decoder for the image, for the functions that take one
  // (code::importThunkAt, unwind::computeFrame, ...); what it decodes is
  // the library's own business (code::Disassembler shows instructions).
  const code::Decoder &decoder() const { return *decoder_; }

  // Functions, discovered on first call (thread-safe).
  const std::vector<code::Function> &functions() const;
  const code::Function *functionAt(uint32_t rva) const;
  // Fragment-aware: the function one of whose chunks holds rva.
  const code::Function *functionContaining(uint32_t rva) const;

  // --- the session's models (each computed once, on first use) -------------
  const unwind::ExceptionDirectory &exceptionDirectory() const;
  const unwind::HandlerCatalog &handlerCatalog() const;
  const unwind::SehModel &sehModel() const;
  const eh::EhModel &ehModel() const;
  const cxx::ObjectModel &objectModel() const;
  const messages::MessageFlow &messageFlow() const;
  // MFC message maps and ATL/WTL ProcessWindowMessage functions.
  const msgmaps::MessageMaps &messageMaps() const;
  // RPC interfaces served and called, their procedures and the call sites.
  const rpc::RpcModel &rpc() const;
  // COM: GUIDs, activations, interface method calls, an in-process server's classes.
  const com::ComModel &com() const;
  // LPC/ALPC port calls, port names, server loops and the message kinds they handle.
  const ports::PortModel &ports() const;
  const calls::CallIndex &callIndex() const;
  const std::vector<calls::CallbackRegistration> &callbacks() const;
  // How the image's callees treat the stack and registers, with the
  // session's API table.
  const calls::CallConventions &callConventions() const;
  // The value facts of one function: its blocks replayed by the value
  // tracker with the session's calling conventions (what every query of
  // call arguments and call results reads), computed once per function and
  // kept up to a memory bound; past it, computed for each asker.
  std::shared_ptr<const values::Tracker> valueFacts(const code::Function &f) const;
  // Value facts: globals holding a GetProcAddress result -> the name asked
  // for (dynamically resolved imports), with the session's API table.
  const std::unordered_map<uint32_t, std::string> &procAddressGlobals() const;
  // Every recognizer's edges, and every address's name (these two ask every
  // model above).
  const graph::Graph &graph() const;
  const names::NameService &names() const;
  // Whether the session answers from a project database.
  bool fromStore() const { return store_ != nullptr; }
  // The PDB the names came from (nullptr: none).
  const pdb::PdbNames *pdb() const { return options_.pdb.get(); }
  // Whether symbols() holds rva because the PDB names it.
  bool isPdbSymbol(uint32_t rva) const { return pdbRvas_.count(rva) != 0; }
  void warn(const std::string &message) const {
    if (options_.warn)
      options_.warn(message);
  }

  // The best name for an address: a symbol or function name, an import
  // ("user32!SendMessageW") for an IAT slot, or nullopt.
  std::optional<std::string> nameAt(uint32_t rva) const;
  // Names that need no function discovery: an export or COFF symbol at rva,
  // or the API an import thunk (`jmp [IAT]`) at rva jumps to.
  std::optional<std::string> symbolAt(uint32_t rva) const;
  std::optional<std::string> importThunkAt(uint32_t rva) const;
  // Exports and COFF symbols: rva -> (raw name, display name).
  const std::unordered_map<uint32_t, std::pair<std::string, std::string>> &symbols() const { return symbols_; }
  // "func+0x12" or "module+0x1234" for any address.
  std::string describe(uint32_t rva) const;
  // WinDbg's form: "module!func", "module!func+0x12" or "module+0x1234".
  std::string symbolize(uint32_t rva) const;
  // The naming service's name for rva, else symbolize(rva): what listings
  // and edges into this module call an address.
  std::string displayName(uint32_t rva) const;
  // A name (mangled, demangled or undecorated) or a hex RVA/VA to an RVA.
  std::optional<uint32_t> resolve(std::string_view text) const;

private:
  struct Models;
  Analysis(pe::PeImage image, std::string moduleName, AnalysisOptions options, std::unique_ptr<ModelStore> store);
  void collectSymbols();
  void buildFunctions() const;
  void nameDelayLoadThunks() const;

  pe::PeImage image_;
  std::string module_;
  AnalysisOptions options_;
  std::unique_ptr<const code::Decoder> decoder_;
  // rva -> (raw name, display name); exports and COFF symbols.
  std::unordered_map<uint32_t, std::pair<std::string, std::string>> symbols_;
  std::unordered_set<uint32_t> pdbRvas_;

  mutable std::once_flag functionsOnce_;
  mutable std::vector<code::Function> functions_;
  mutable std::vector<std::pair<code::Range, uint32_t>> chunkIndex_;   // sorted by range start
  std::unique_ptr<ModelStore> store_;
  std::unique_ptr<Models> models_;
};

// "notepad" for /path/notepad.exe.
std::string moduleNameOf(const std::string &path);

// Strip x86 decorations: "_WndProc@16" -> "WndProc", "@f@8" -> "f".
std::string undecorate(std::string_view name);

} // namespace sb
