// A parsed PE file. Construction never throws and never trusts the file: each
// directory is parsed on its own, a malformed one adds a warning and leaves the
// rest of the model intact.
#pragma once
#include "switchboard/pe/Structures.h"
#include "switchboard/support/ByteReader.h"
#include "switchboard/support/Expected.h"

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace sb::pe {

class PeImage {
public:
  // Fails only when the file is not a PE at all (no MZ/PE signature, no optional
  // header); everything after that yields warnings.
  static Expected<PeImage> parse(std::vector<uint8_t> bytes);
  static Expected<PeImage> load(const std::string &path);

  const Headers &headers() const { return headers_; }
  Machine machine() const { return headers_.machine; }
  bool is64() const { return headers_.is64; }
  unsigned pointerSize() const { return headers_.is64 ? 8 : 4; }
  uint64_t imageBase() const { return headers_.imageBase; }
  bool codeAnalysisSupported() const {
    return headers_.machine == Machine::X86 || headers_.machine == Machine::X64;
  }

  const std::vector<Section> &sections() const { return sections_; }
  const std::vector<Import> &imports() const { return imports_; }
  const std::vector<Import> &delayImports() const { return delayImports_; }
  const ExportDirectory &exports() const { return exports_; }
  const std::vector<Relocation> &relocations() const { return relocations_; }
  const std::optional<TlsDirectory> &tls() const { return tls_; }
  const std::optional<LoadConfig> &loadConfig() const { return loadConfig_; }
  const std::vector<DebugEntry> &debugEntries() const { return debug_; }
  const std::optional<RichHeader> &richHeader() const { return rich_; }
  const std::vector<ResourceEntry> &resources() const { return resources_; }
  const std::vector<CoffSymbol> &coffSymbols() const { return coffSymbols_; }
  const std::vector<RuntimeFunction> &runtimeFunctions() const { return runtimeFunctions_; }
  const std::vector<std::string> &warnings() const { return warnings_; }
  std::span<const uint8_t> fileBytes() const { return *bytes_; }

  // --- address mapping -------------------------------------------------------
  const Section *sectionForRva(uint32_t rva) const;
  std::optional<uint64_t> rvaToOffset(uint32_t rva) const;
  std::optional<uint32_t> offsetToRva(uint64_t offset) const;
  uint64_t rvaToVa(uint32_t rva) const { return headers_.imageBase + rva; }
  std::optional<uint32_t> vaToRva(uint64_t va) const;
  bool isExecutableRva(uint32_t rva) const;
  bool isMappedRva(uint32_t rva) const;

  // Contiguous file-backed bytes from rva to the end of its section's raw data.
  std::span<const uint8_t> bytesFromRva(uint32_t rva) const;

  // Reads at an RVA. Bytes past a section's raw data but inside its virtual
  // size read as zero, as the loader would map them.
  template <typename T>
  std::optional<T> readRva(uint32_t rva) const {
    T value{};
    if (!copyFromRva(rva, &value, sizeof(T)))
      return std::nullopt;
    return value;
  }
  std::optional<uint64_t> readPointer(uint32_t rva) const;
  std::optional<std::string> cstringAtRva(uint32_t rva, size_t maxLength = 4096) const;
  bool copyFromRva(uint32_t rva, void *out, size_t length) const;

  // Relocation set lookups (pointer-holding RVAs: HIGHLOW and DIR64).
  bool hasRelocationAt(uint32_t rva) const;
  // Whether a pointer-sized value at rva may be an address: it carries a
  // relocation, or the image has none at all (relocations stripped).
  bool mayHoldAddress(uint32_t rva) const { return relocations_.empty() || hasRelocationAt(rva); }

  // Import by IAT slot.
  const Import *importForIat(uint32_t iatRva) const;
  // Names imports by ordinal from knowledge the file lacks (the export's
  // name); they stay marked byOrdinal.
  void nameOrdinalImports(const std::function<std::optional<std::string>(std::string_view dll, uint16_t ordinal)> &name);

private:
  friend class PeParser;
  void warn(std::string message) { warnings_.push_back(std::move(message)); }

  std::shared_ptr<const std::vector<uint8_t>> bytes_;
  ByteReader file_;
  Headers headers_;
  std::vector<Section> sections_;
  std::vector<uint32_t> sectionOrder_;     // indices sorted by rva
  std::vector<Import> imports_;
  std::vector<Import> delayImports_;
  std::vector<std::pair<uint32_t, uint32_t>> iatIndex_;  // (iatRva, index into all imports); sorted
  ExportDirectory exports_;
  std::vector<Relocation> relocations_;    // sorted by rva
  std::optional<TlsDirectory> tls_;
  std::optional<LoadConfig> loadConfig_;
  std::vector<DebugEntry> debug_;
  std::optional<RichHeader> rich_;
  std::vector<ResourceEntry> resources_;
  std::vector<CoffSymbol> coffSymbols_;
  std::vector<RuntimeFunction> runtimeFunctions_;
  std::vector<std::string> warnings_;
};

} // namespace sb::pe
