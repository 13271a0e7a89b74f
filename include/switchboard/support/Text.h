// Text conversions several layers need: UTF-16 (Windows strings and
// resources) to UTF-8, and GUIDs in registry form.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sb {

// Unpaired surrogates become U+FFFD.
std::string utf16ToUtf8(std::u16string_view s);
// ASCII letters in lower case (DLL and class names compare without case).
std::string toLower(std::string_view s);
// {D1-D2-D3-D4-D5} from the 16 bytes of a GUID as it lies in memory.
std::string formatGuid(std::span<const uint8_t, 16> g);
// An address as a debugger prints it: hex digits, an optional 0x, WinDbg's
// ` between the halves (00000000`0011f9a0); nullopt for anything else.
std::optional<uint64_t> parseHexAddress(std::string_view text);

} // namespace sb
