// Names as each tool accepts them.
#include "switchboard/exporters/Exporter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <unordered_map>

namespace sb::exporters {
namespace {
// A name Ghidra gives by default (FUN_00401000, DAT_0040a000, LAB_...):
// letters, '_', then eight or more hex digits. Ghidra refuses to set such a
// name as a user name.
bool looksLikeGhidraDefault(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i])))
    ++i;
  if (i == 0 || i >= s.size() || s[i] != '_')
    return false;
  const size_t digits = s.size() - i - 1;
  return digits >= 8 && std::all_of(s.begin() + std::ptrdiff_t(i) + 1, s.end(),
                                    [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

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

// Cuts s to at most n bytes, not inside a UTF-8 sequence.
void cutUtf8(std::string &s, size_t n) {
  if (s.size() <= n)
    return;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xc0) == 0x80)
    --n;
  s.resize(n);
}

bool idaChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c == '?' || c == '@'; }

// IDA (ida.cfg's default NameChars, name.hpp's MAXNAMELEN 512 with its NUL):
// letters, digits, '_', '$', '?', '@', not starting with a digit. A scope's
// "::" becomes "__" so Class::method stays readable; any other byte '_'.
std::string idaName(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 2, "::") == 0) {
      out += "__";
      ++i;
      continue;
    }
    out += idaChar(static_cast<unsigned char>(text[i])) ? text[i] : '_';
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0])))
    out.insert(out.begin(), '_');
  if (out.size() > 511)
    out.resize(511);
  return out;
}

// Ghidra's SymbolUtilities.validateName: not empty, at most 2000 UTF-16
// units (bytes bound it), no blank or control character (<>, commas and
// quotes are fine: its demangler makes such names). A part that reads as
// one of Ghidra's dynamic labels (a prefix, '_' and an address:
// "FUN_00401000", SymbolUtilities.isReservedDynamicLabelName) is refused
// there: it gets a suffix.
std::string ghidraPart(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    // Template arguments as Ghidra's demangler spells them: "<int,char>",
    // "<a<b>>"; any other blank (`scalar deleting destructor') as '_', as
    // its demangler does too.
    if (c == ' ' && ((!out.empty() && out.back() == ',') || (i + 1 < text.size() && text[i + 1] == '>')))
      continue;
    out += c <= 0x20 || c == 0x7f ? '_' : char(c);
  }
  cutUtf8(out, 2000 - 20);   // room for "_sb" or toolNames' "_<rva>"
  if (looksLikeGhidraDefault(out))
    out += "_sb";
  return out.empty() ? "_" : out;
}

std::string ghidraName(std::string_view text) {
  std::string out;
  for (const std::string &part : ghidraParts(text))
    out += (out.empty() ? "" : "::") + part;
  return out;
}

// Binary Ninja takes any string; control characters would break its
// one-line views.
std::string binjaName(std::string_view text) {
  std::string out;
  for (unsigned char c : text)
    out += c < 0x20 || c == 0x7f ? '_' : char(c);
  return out.empty() ? "_" : out;
}
} // namespace

std::vector<std::string> splitQualified(std::string_view text) {
  std::vector<std::string> parts(1);
  int depth = 0;
  bool quoted = false;   // inside `...'
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '`')
      quoted = true;
    else if (c == '\'' && quoted)
      quoted = false;
    else if (!quoted && (c == '<' || c == '('))
      ++depth;
    else if (!quoted && (c == '>' || c == ')') && depth > 0)
      --depth;
    if (!quoted && depth == 0 && text.compare(i, 2, "::") == 0 && !parts.back().empty()) {
      parts.emplace_back();
      ++i;
      continue;
    }
    parts.back() += c;
  }
  if (parts.back().empty() && parts.size() > 1)   // "A::" keeps its colons in the last part
    parts.back() = "::";
  return parts;
}

std::vector<std::string> ghidraParts(std::string_view text) {
  std::vector<std::string> parts = splitQualified(text);
  for (std::string &part : parts)
    part = ghidraPart(part);
  return parts;
}

std::string cIdentifier(std::string_view text) {
  std::string out;
  for (unsigned char c : text)
    out += std::isalnum(c) || c == '_' ? char(c) : '_';
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0])))
    out.insert(out.begin(), '_');
  return out;
}

std::string sanitizeName(Tool tool, std::string_view text) {
  switch (tool) {
  case Tool::Radare2: return r2Name(text);
  case Tool::X64dbg: return x64dbgName(text);
  case Tool::Ida: return idaName(text);
  case Tool::Ghidra: return ghidraName(text);
  case Tool::Binja: return binjaName(text);
  }
  return r2Name(text);
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
        cutUtf8(out[i], 254 - suffix.size());
      if (tool == Tool::Ida && out[i].size() + suffix.size() > 511)
        out[i].resize(511 - suffix.size());
      out[i] += suffix;
    }
  return out;
}

} // namespace sb::exporters
