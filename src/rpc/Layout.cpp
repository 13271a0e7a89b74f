#include "rpc/Layout.h"

#include "switchboard/support/ByteReader.h"
#include "switchboard/support/Text.h"

#include <algorithm>

namespace sb::rpc::layout {

std::optional<InterfaceHeader> decodeInterfaceHeader(std::span<const uint8_t> bytes, bool is64) {
  if (bytes.size() < kInterfaceHeaderSize)
    return std::nullopt;
  const ByteReader b(bytes);
  if (*b.u32(0) != interfaceLength(is64))
    return std::nullopt;
  InterfaceHeader h;
  h.versionMajor = *b.u16(0x14);
  h.versionMinor = *b.u16(0x16);
  const auto syntax = bytes.subspan(0x18, 16);
  const uint16_t syntaxMajor = *b.u16(0x28), syntaxMinor = *b.u16(0x2A);
  if (std::equal(syntax.begin(), syntax.end(), kNdrSyntax.begin()) && syntaxMajor == 2 && syntaxMinor == 0)
    h.transferSyntax = "NDR";
  else if (std::equal(syntax.begin(), syntax.end(), kNdr64Syntax.begin()) && syntaxMajor == 1 && syntaxMinor == 0)
    h.transferSyntax = "NDR64";
  else
    return std::nullopt;
  const std::string registry = formatGuid(std::span<const uint8_t, 16>(bytes.data() + 4, 16));
  h.uuid = toLower(std::string_view(registry).substr(1, registry.size() - 2));
  return h;
}

} // namespace sb::rpc::layout
