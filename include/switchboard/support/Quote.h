// Placeholder until the quoting layer lands: DOT double-quoted strings.
#pragma once
#include <string>
#include <string_view>
namespace sb {
inline std::string quoteDot(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out + "\"";
}
} // namespace sb
