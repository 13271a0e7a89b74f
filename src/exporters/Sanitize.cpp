// Names as each tool accepts them.
#include "switchboard/exporters/Exporter.h"

#include <fmt/format.h>

#include <cctype>
#include <unordered_map>

namespace sb::exporters {
namespace {
bool r2Char(unsigned char c) { return std::isalnum(c) || c == '.' || c == ':' || c == '_'; }

// radare2's flag rules (libr/util/name.c, r_name_check): the first character
// a letter, '_' or ':'; the rest letters, digits, '.', ':' and '_'. Every
// other byte (and each byte of a UTF-8 sequence) becomes '_', runs of '_'
// collapse, and '.' (r2's namespace separator) stays only between words.
std::string r2Name(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    char ch = r2Char(c) ? char(c) : '_';
    if (ch == '_' && !out.empty() && out.back() == '_')
      continue;
    out += ch;
  }
  while (out.size() > 1 && out.back() == '_')
    out.pop_back();
  if (out.empty() || !(std::isalpha(static_cast<unsigned char>(out[0])) || out[0] == '_' || out[0] == ':'))
    out.insert(out.begin(), '_');
  if (out.size() > 200)
    out.resize(200);
  return out;
}

// x64dbg (src/dbg/label.cpp, LabelSet): fewer than MAX_LABEL_SIZE - 1 (255)
// bytes, not starting with \1. Control characters become '_'; the rest
// (demangled C++ included) is shown as is, as x64dbg shows PDB symbols.
std::string x64dbgName(std::string_view text) {
  std::string out;
  for (unsigned char c : text)
    out += c < 0x20 || c == 0x7f ? '_' : char(c);
  if (out.size() > 254) {
    size_t n = 254;
    while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xc0) == 0x80)   // not inside a UTF-8 sequence
      --n;
    out.resize(n);
  }
  return out.empty() ? "_" : out;
}
} // namespace

std::string sanitizeName(Tool tool, std::string_view text) {
  return tool == Tool::Radare2 ? r2Name(text) : x64dbgName(text);
}

std::vector<std::string> toolNames(const ExportModel &model, Tool tool) {
  std::vector<std::string> out;
  out.reserve(model.names.size());
  std::unordered_map<std::string, size_t> count;
  for (const ExportName &n : model.names)
    ++count[out.emplace_back(sanitizeName(tool, n.text))];
  // Two addresses with one name: each gets its address as a suffix (a tool
  // keeps one address per name).
  for (size_t i = 0; i < out.size(); ++i)
    if (count[out[i]] > 1) {
      std::string suffix = fmt::format("_{:x}", model.names[i].rva);
      if (tool == Tool::X64dbg && out[i].size() + suffix.size() > 254)
        out[i].resize(254 - suffix.size());
      out[i] += suffix;
    }
  return out;
}

} // namespace sb::exporters
