// The one analysis model every command reads from: the PE image, its names,
// and (computed on first use) its functions.
#pragma once
#include "switchboard/api/ApiTable.h"
#include "switchboard/code/Decoder.h"
#include "switchboard/code/Discovery.h"
#include "switchboard/code/Function.h"
#include "switchboard/pe/PeImage.h"
#include "switchboard/support/Expected.h"

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sb {

struct AnalysisOptions {
  unsigned threads = 0;
  std::function<void(const char *phase, size_t count)> progress;
  std::shared_ptr<const api::ApiTable> api;
};

class Analysis {
public:
  static Expected<std::unique_ptr<Analysis>> open(const std::string &path, AnalysisOptions options = {});
  static std::unique_ptr<Analysis> fromImage(pe::PeImage image, std::string moduleName, AnalysisOptions options = {});

  const pe::PeImage &image() const { return image_; }
  // "notepad" for notepad.exe: the prefix WinDbg-style listings use.
  const std::string &moduleName() const { return module_; }
  // Worker threads for the analyses (0: one per core).
  unsigned threads() const { return options_.threads; }
  // The API table the analyses read: the one given in the options, or the
  // built-in one.
  const api::ApiTable &apiTable() const;

  // Functions, discovered on first call (thread-safe).
  const std::vector<code::Function> &functions() const;
  const code::Function *functionAt(uint32_t rva) const;
  // Fragment-aware: the function one of whose chunks holds rva.
  const code::Function *functionContaining(uint32_t rva) const;

  // The best name for an address: a symbol or function name, an import
  // ("user32!SendMessageW") for an IAT slot, or nullopt.
  std::optional<std::string> nameAt(uint32_t rva) const;
  // Names that need no function discovery: an export or COFF symbol at rva,
  // or the API an import thunk (`jmp [IAT]`) at rva jumps to.
  std::optional<std::string> symbolAt(uint32_t rva) const;
  std::optional<std::string> importThunkAt(uint32_t rva) const;
  // "func+0x12" or "module+0x1234" for any address.
  std::string describe(uint32_t rva) const;
  // A name (mangled, demangled or undecorated) or a hex RVA/VA to an RVA.
  std::optional<uint32_t> resolve(std::string_view text) const;

private:
  Analysis(pe::PeImage image, std::string moduleName, AnalysisOptions options);
  void collectSymbols();
  void buildFunctions() const;
  void nameDelayLoadThunks() const;

  pe::PeImage image_;
  std::string module_;
  AnalysisOptions options_;
  code::Decoder decoder_;
  // rva -> (raw name, display name); exports and COFF symbols.
  std::unordered_map<uint32_t, std::pair<std::string, std::string>> symbols_;

  mutable std::once_flag functionsOnce_;
  mutable std::vector<code::Function> functions_;
  mutable std::vector<std::pair<code::Range, uint32_t>> chunkIndex_;   // sorted by range start
};

// Strip x86 decorations: "_WndProc@16" -> "WndProc", "@f@8" -> "f".
std::string undecorate(std::string_view name);

} // namespace sb
