#include "switchboard/support/Quote.h"

#include <fmt/format.h>

#include <cstdint>

namespace sb {
namespace {

// The length of the valid UTF-8 sequence at s[i] (1 for ASCII), 0 when the
// bytes there are none (a stray continuation byte, an overlong form, a
// surrogate, past U+10FFFF, cut short).
size_t utf8Length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return uint8_t(s[k]); };
  const uint8_t c = b(i);
  if (c < 0x80)
    return 1;
  size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (!n || i + n > s.size())
    return 0;
  for (size_t k = 1; k < n; ++k)
    if ((b(i + k) & 0xC0) != 0x80)
      return 0;
  const uint8_t c1 = b(i + 1);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F))
    return 0;
  return n;
}

std::string hexByte(uint8_t c) { return fmt::format("\\x{:02x}", c); }

// s with each character through `one` (ASCII) and each valid UTF-8
// sequence as is; other bytes as \xNN after `before` (DOT labels need
// another backslash to show one).
template <typename Ascii>
std::string escapeUtf8(std::string_view s, Ascii one, std::string_view before = {}) {
  std::string out;
  out.reserve(s.size() + 2);
  for (size_t i = 0; i < s.size();) {
    const size_t n = utf8Length(s, i);
    if (n == 1)
      one(out, s[i]);
    else if (n)
      out.append(s.substr(i, n));
    else
      out.append(before).append(hexByte(uint8_t(s[i])));
    i += n ? n : 1;
  }
  return out;
}

} // namespace

std::string cLiteral(std::string_view s, bool wide) {
  std::string out = wide ? "L\"" : "\"";
  for (char c : s) {
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default:
      if (uint8_t(c) < 0x20)
        out += hexByte(uint8_t(c));
      else
        out += c;
    }
  }
  return out + "\"";
}

std::string dotString(std::string_view s) {
  std::string out = "\"";
  out += escapeUtf8(s, [](std::string &o, char c) {
    switch (c) {
    case '"': o += "\\\""; break;
    // A label's backslash escapes (\n, \N, \G, \l ...) start with one:
    // two show one.
    case '\\': o += "\\\\"; break;
    case '\n': o += "\\n"; break;
    case '&': o += "&amp;"; break;
    default:
      if (uint8_t(c) < 0x20 || c == 0x7F)
        o.append("\\").append(hexByte(uint8_t(c)));   // \\xNN: the label shows \xNN
      else
        o += c;
    }
  }, "\\");
  out += '"';
  return out;
}

std::string htmlEscape(std::string_view s) {
  return escapeUtf8(s, [](std::string &out, char c) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    case '\t':
    case '\n':
    case '\r': out += c; break;
    default:
      if (uint8_t(c) < 0x20 || c == 0x7F)
        out += hexByte(uint8_t(c));
      else
        out += c;
    }
  });
}

std::string scriptJson(std::string_view json) {
  std::string out;
  out.reserve(json.size());
  for (char c : json)
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  return out;
}

} // namespace sb
