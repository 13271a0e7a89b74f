// Internal: the parser, one static member per directory, each in its own file.
#pragma once
#include "switchboard/pe/PeImage.h"

#include <fmt/format.h>

namespace sb::pe {

class PeParser {
public:
  static Expected<PeImage> parse(std::vector<uint8_t> bytes, bool mapped);

  static std::optional<Error> parseHeaders(PeImage &img);
  static void parseSections(PeImage &img);
  static void parseImports(PeImage &img);
  static void parseDelayImports(PeImage &img);
  static void findUnlistedDelayImports(PeImage &img);
  static void buildIatIndex(PeImage &img);
  static void parseExports(PeImage &img);
  static void parseRelocations(PeImage &img);
  static void parseTls(PeImage &img);
  static void parseLoadConfig(PeImage &img);
  static void parseDebug(PeImage &img);
  static void parseRich(PeImage &img);
  static void parseResources(PeImage &img);
  static void parseCoffSymbols(PeImage &img);
  static void parseExceptionTable(PeImage &img);

  // Shared helpers.
  static const DataDirectory *directory(const PeImage &img, unsigned index);
  static ByteReader &file(PeImage &img) { return img.file_; }
  template <typename... Args>
  static void warn(PeImage &img, fmt::format_string<Args...> f, Args &&...args) {
    // A hostile file can produce a warning per entry; keep the list bounded.
    if (img.warnings_.size() < 1000)
      img.warn(fmt::format(f, std::forward<Args>(args)...));
    else if (img.warnings_.size() == 1000)
      img.warn("further warnings suppressed");
  }
};

} // namespace sb::pe
