// A parsed PE file. Construction never throws and never trusts the file: each
// directory is parsed on its own, a malformed one adds a warning and leaves the
// rest of the model intact.
//
// It is an image::Image: the analyses that only read memory see it through
// that interface; the PE-only tables (imports, exports, .pdata, load config,
// resources, relocations) are its own accessors.
#pragma once
#include "switchboard/image/Image.h"
#include "switchboard/pe/Structures.h"
#include "switchboard/support/ByteReader.h"
#include "switchboard/support/Expected.h"

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace sb::pe {

class PeImage final : public image::Image {
public:
  // Fails only when the file is not a PE at all (no MZ/PE signature, no optional
  // header); everything after that yields warnings.
  static Expected<PeImage> parse(std::vector<uint8_t> bytes);
  static Expected<PeImage> load(const std::string &path);
  // An image as the loader mapped it (offset = RVA: pages read from a
  // process dump's memory); sections' raw data is their mapped range and
  // the file-only parts (COFF symbols) are absent.
  static Expected<PeImage> parseMapped(std::vector<uint8_t> mapped);
  bool mappedLayout() const { return mappedLayout_; }

  const Headers &headers() const { return headers_; }
  Machine machine() const { return headers_.machine; }

  // --- image::Image -------------------------------------------------------------
  image::Architecture architecture() const override;
  unsigned pointerSize() const override { return headers_.is64 ? 8 : 4; }   // PE32+: 8
  uint64_t imageBase() const override { return headers_.imageBase; }
  uint32_t imageSize() const override { return headers_.sizeOfImage; }
  std::optional<uint32_t> entryPoint() const override {
    return headers_.entryPointRva ? std::optional<uint32_t>(headers_.entryPointRva) : std::nullopt;
  }
  const std::vector<std::string> &warnings() const override { return warnings_; }
  // sections() as neutral ranges, in section table order.
  std::span<const image::Section> mappedSections() const override { return mapped_; }
  const image::Section *sectionFor(uint32_t rva) const override;
  // Mapped: in a section, or in the headers.
  bool isMappedRva(uint32_t rva) const override;
  // Contiguous file-backed bytes from rva to the end of its section's raw data.
  std::span<const uint8_t> bytesFromRva(uint32_t rva) const override;
  // Bytes past a section's raw data but inside its virtual size read as zero,
  // as the loader would map them; the headers read from the file.
  bool copyFromRva(uint32_t rva, void *out, size_t length) const override;
  bool mayHoldAddress(uint32_t rva) const override { return relocations_.empty() || hasRelocationAt(rva); }
  bool isImportSlot(uint32_t rva) const override { return importForIat(rva) != nullptr; }

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
  std::span<const uint8_t> fileBytes() const { return *bytes_; }

  // --- address mapping -------------------------------------------------------
  const Section *sectionForRva(uint32_t rva) const;
  std::optional<uint64_t> rvaToOffset(uint32_t rva) const;
  std::optional<uint32_t> offsetToRva(uint64_t offset) const;

  // Relocation set lookups (pointer-holding RVAs: HIGHLOW and DIR64).
  // mayHoldAddress: it carries a relocation, or the image has none at all
  // (relocations stripped).
  bool hasRelocationAt(uint32_t rva) const;

  // Import by IAT slot.
  const Import *importForIat(uint32_t iatRva) const;
  // Names imports by ordinal from knowledge the file lacks (the export's
  // name); they stay marked byOrdinal.
  void nameOrdinalImports(const std::function<std::optional<std::string>(std::string_view dll, uint16_t ordinal)> &name);

private:
  friend class PeParser;
  void warn(std::string message) { warnings_.push_back(std::move(message)); }
  // cstringAtRva: strings in the headers read from the file.
  std::optional<std::string> cstring(uint32_t rva, size_t maxLength) const override;
  // Index into sections_ (and mapped_) of the section holding rva, or -1.
  int64_t sectionIndex(uint32_t rva) const;

  std::shared_ptr<const std::vector<uint8_t>> bytes_;
  ByteReader file_;
  Headers headers_;
  std::vector<Section> sections_;
  std::vector<uint32_t> sectionOrder_;     // indices sorted by rva
  // The address space as disjoint spans, each with the section an address
  // there belongs to (of overlapping sections, the one starting last): one
  // binary search per lookup, however many sections a damaged header claims.
  struct SectionSpan {
    uint64_t start = 0, end = 0;
    uint32_t index = 0;
  };
  std::vector<SectionSpan> sectionSpans_;   // sorted by start
  void buildSectionSpans();
  std::vector<image::Section> mapped_;     // sections_ as image::Section, same indices
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
  bool mappedLayout_ = false;
};

} // namespace sb::pe
