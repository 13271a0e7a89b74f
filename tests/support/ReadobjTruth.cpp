#include "ReadobjTruth.h"

#include "TestSupport.h"

#include <sstream>

namespace sb::test {
namespace {
std::string trim(const std::string &s) {
  size_t a = s.find_first_not_of(' ');
  return a == std::string::npos ? "" : s.substr(a);
}
std::string valueOf(const std::string &line) {
  size_t c = line.find(':');
  return c == std::string::npos ? "" : (c + 2 <= line.size() ? line.substr(c + 2) : "");
}
const char *relocTypeName(uint8_t t) {
  switch (t) {
  case 1: return "HIGH";
  case 2: return "LOW";
  case 3: return "HIGHLOW";
  case 4: return "HIGHADJ";
  case 10: return "DIR64";
  default: return "OTHER";
  }
}
} // namespace

std::optional<ReadobjView> readobjView(const std::string &path) {
  std::string out;
  if (runCommand("llvm-readobj-16 --coff-imports --coff-exports --coff-basereloc '" + path + "' 2>/dev/null", &out) != 0)
    return std::nullopt;
  ReadobjView v;
  std::istringstream in(out);
  std::string line, dll, block;
  bool delayed = false;
  uint32_t ordinal = 0;
  std::string name, forward;
  uint32_t rva = 0;
  std::string relocType;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (t == "Import {" && block != "DelayImport")
      block = "Import", delayed = false;
    else if (t == "DelayImport {")
      block = "DelayImport", delayed = true;
    else if (t == "Export {")
      block = "Export", ordinal = 0, name.clear(), forward.clear(), rva = 0;
    else if (t == "Entry {")
      block = "Reloc";
    else if (t.rfind("Name: ", 0) == 0 && (block == "Import" || block == "DelayImport"))
      dll = valueOf(t);
    else if (t.rfind("Symbol: ", 0) == 0 || t == "Symbol:" || t.rfind("Symbol:  (", 0) == 0) {
      // "Symbol: name (hint)" or "Symbol:  (ordinal)"
      size_t open = t.rfind(" (");
      std::string sym = open == std::string::npos ? "" : t.substr(8, open > 8 ? open - 8 : 0);
      uint32_t num = open == std::string::npos ? 0 : uint32_t(std::stoul(t.substr(open + 2)));
      v.imports.insert({dll, trim(sym), num, delayed});
    } else if (block == "Export" && t.rfind("Ordinal: ", 0) == 0)
      ordinal = uint32_t(std::stoul(valueOf(t)));
    else if (block == "Export" && t.rfind("Name:", 0) == 0)
      name = valueOf(t);
    else if (block == "Export" && t.rfind("RVA: ", 0) == 0)
      rva = uint32_t(std::stoul(valueOf(t), nullptr, 16));
    else if (block == "Export" && t.rfind("ForwardedTo: ", 0) == 0)
      forward = valueOf(t);
    else if (block == "Reloc" && t.rfind("Type: ", 0) == 0)
      relocType = valueOf(t);
    else if (block == "Reloc" && t.rfind("Address: ", 0) == 0) {
      if (relocType != "ABSOLUTE")
        v.relocs.insert({uint32_t(std::stoul(valueOf(t), nullptr, 16)), relocType});
    } else if (t == "}" && block == "Export") {
      if (rva || !forward.empty())
        v.exports.insert({ordinal, name, forward.empty() ? rva : 0, forward});
      block.clear();
    } else if (t == "}" && block == "Reloc") {
      block.clear();
    }
  }
  return v;
}

ReadobjView modelView(const pe::PeImage &img) {
  ReadobjView v;
  for (const auto &i : img.imports())
    v.imports.insert({i.dll, i.byOrdinal ? "" : i.name, i.byOrdinal ? i.ordinal : i.hint, false});
  for (const auto &i : img.delayImports())
    v.imports.insert({i.dll, i.byOrdinal ? "" : i.name, i.byOrdinal ? i.ordinal : i.hint, true});
  for (const auto &e : img.exports().exports)
    v.exports.insert({e.ordinal, e.name, e.rva, e.forwarder});
  for (const auto &r : img.relocations())
    v.relocs.insert({r.rva, relocTypeName(r.type)});
  return v;
}

} // namespace sb::test
