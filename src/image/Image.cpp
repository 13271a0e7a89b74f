#include "switchboard/image/Image.h"

#include <cstring>

namespace sb::image {

const char *architectureName(Architecture a) {
  switch (a) {
  case Architecture::X86: return "x86";
  case Architecture::X64: return "x64";
  case Architecture::Arm64: return "arm64";
  case Architecture::Other: return "other";
  }
  return "other";
}

std::optional<std::string> Image::cstring(uint32_t rva, size_t maxLength) const {
  std::span<const uint8_t> bytes = bytesFromRva(rva);
  size_t limit = bytes.size() < maxLength ? bytes.size() : maxLength;
  if (!limit)
    return std::nullopt;
  const void *nul = std::memchr(bytes.data(), 0, limit);
  if (!nul)
    return std::nullopt;
  return std::string(reinterpret_cast<const char *>(bytes.data()), static_cast<const uint8_t *>(nul) - bytes.data());
}

} // namespace sb::image
