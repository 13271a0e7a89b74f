#include "switchboard/image/Image.h"

#include "switchboard/support/Text.h"

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

std::optional<std::string> Image::wideStringAtRva(uint32_t rva, size_t maxChars) const {
  std::u16string s;
  for (size_t i = 0; i < maxChars; ++i) {
    auto c = readRva<uint16_t>(rva + uint32_t(2 * i));
    if (!c)
      return std::nullopt;
    if (*c == 0)
      return utf16ToUtf8(s);
    s += char16_t(*c);
  }
  return std::nullopt;
}

} // namespace sb::image
