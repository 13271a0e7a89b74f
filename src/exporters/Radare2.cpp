// The radare2 writer: an r2 script (r2 -i script.r2 FILE) for radare2 6.x.
// Idempotent: every command that adds something first removes what an
// earlier run added (af-, f-, CC-, ax-), so loading it twice leaves what
// loading it once did. It refuses a file whose sha256 is not the one it was
// written for: `itj` gives the file's hashes (bin.hashlimit raised to the
// file's size so large files get one), `?==` compares and sets $?, and `??`
// quits before the first change when they differ.
#include "switchboard/exporters/Exporter.h"

#include "switchboard/support/Quote.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace sb::exporters {
namespace {
std::string base64(std::string_view s) {
  static const char *k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((s.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = uint32_t(uint8_t(s[i])) << 16 | uint32_t(uint8_t(s[i + 1])) << 8 | uint8_t(s[i + 2]);
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += k[v & 63];
  }
  if (i + 1 == s.size()) {
    uint32_t v = uint32_t(uint8_t(s[i])) << 16;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == s.size()) {
    uint32_t v = uint32_t(uint8_t(s[i])) << 16 | uint32_t(uint8_t(s[i + 1])) << 8;
    out += k[v >> 18];
    out += k[(v >> 12) & 63];
    out += k[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

// One line of a comment for the script's own # comments.
std::string oneLine(std::string_view s) {
  std::string out;
  for (char c : s)
    out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

const char *xrefCommand(XrefType t) {
  switch (t) {
  case XrefType::Call: return "axC";
  case XrefType::Data: return "axd";
  case XrefType::Code: return "axc";
  }
  return "axc";
}

// A C type of `size` bytes for a field, for `td`.
std::string fieldDecl(const ExportField &f) {
  switch (f.size) {
  case 1: return fmt::format("uint8_t {};", f.name);
  case 2: return fmt::format("uint16_t {};", f.name);
  case 4: return fmt::format("uint32_t {};", f.name);
  case 8: return fmt::format("uint64_t {};", f.name);
  default: return fmt::format("uint8_t {}[{}];", f.name, f.size);
  }
}
} // namespace

std::string renderRadare2(const ExportModel &m, ExportCounts *counts) {
  fmt::memory_buffer b;
  auto out = std::back_inserter(b);
  auto va = [&](uint64_t rva) { return m.imageBase + rva; };
  const std::vector<std::string> names = toolNames(m, Tool::Radare2);

  fmt::format_to(out, "# switchboard export for radare2 (r2 -i THIS_FILE {})\n", oneLine(m.moduleFile));
  fmt::format_to(out, "# binary: {} ({} bytes)\n# sha256: {}\n", oneLine(m.moduleFile), m.fileSize, m.sha256);
  fmt::format_to(out, "# {} functions, {} names, {} comments, {} xrefs, {} structures\n", m.functions.size(),
                 m.names.size(), m.comments.size(), m.xrefs.size(), m.structs.size());
  // The guard: quit unless the file loaded is the one this script is for.
  fmt::format_to(out, "e bin.hashlimit={}\n", std::max<uint64_t>(m.fileSize + 1, 10u << 20));
  fmt::format_to(out, "?== {} `itj~{{sha256}}`\n", m.sha256);
  fmt::format_to(out, "??e switchboard: this script is for {} (sha256 {}), not this file\n", oneLine(m.moduleFile),
                 m.sha256);
  fmt::format_to(out, "?== {} `itj~{{sha256}}`\n", m.sha256);
  fmt::format_to(out, "??q!!\n");
  fmt::format_to(out, "e asm.bits={}\nfs switchboard\n", m.is64 ? 64 : 32);

  // Functions: hand-made (af+) with their chunks as blocks (afb+), after
  // removing what stood there.
  std::map<uint64_t, size_t> nameIndex;
  for (size_t i = 0; i < m.names.size(); ++i)
    nameIndex[m.names[i].rva] = i;
  fmt::format_to(out, "# functions\n");
  for (const ExportFunction &f : m.functions) {
    auto it = nameIndex.find(f.rva);
    const std::string name =
        it != nameIndex.end() && m.names[it->second].function ? names[it->second] : sanitizeName(Tool::Radare2, f.name);
    fmt::format_to(out, "af-0x{0:x}\naf+ 0x{0:x} {1}\n", va(f.rva), name);
    for (const ExportChunk &c : f.chunks)
      fmt::format_to(out, "afb+ 0x{:x} 0x{:x} {}\n", va(f.rva), va(c.rva), c.end - c.rva);
  }

  // Flags: every name (function names too, so `f` lists them all).
  fmt::format_to(out, "# names\n");
  for (size_t i = 0; i < m.names.size(); ++i) {
    const ExportName &n = m.names[i];
    fmt::format_to(out, "f-{0}\nf {0} {1} 0x{2:x}\n", names[i], std::max<uint32_t>(n.size, 1), va(n.rva));
  }

  // Comments, base64 so no byte of the text reaches r2's command parser.
  fmt::format_to(out, "# comments\n");
  for (const ExportComment &c : m.comments)
    fmt::format_to(out, "CC-@0x{0:x}\nCCu base64:{1} @ 0x{0:x}\n", va(c.rva), base64(c.text));

  // Cross-references: ax- to from, then the typed add.
  fmt::format_to(out, "# xrefs\n");
  for (const ExportXref &x : m.xrefs)
    fmt::format_to(out, "ax- 0x{0:x} 0x{1:x}\n{2} 0x{0:x} 0x{1:x}\n", va(x.to), va(x.from), xrefCommand(x.type));

  // Class layouts as C types (td replaces a type of the same name).
  fmt::format_to(out, "# structures\n");
  size_t structs = 0;
  for (const ExportStruct &s : m.structs) {
    std::string name = "sb_" + names::identifierPart(s.name);
    std::string body;
    uint64_t at = 0;
    for (const ExportField &f : s.fields) {
      if (f.offset > at)
        body += fmt::format("uint8_t pad_{:x}[{}]; ", at, f.offset - at);
      body += fieldDecl(f) + " ";
      at = f.offset + f.size;
    }
    if (s.size > at)
      body += fmt::format("uint8_t pad_{:x}[{}]; ", at, s.size - at);
    fmt::format_to(out, "\"td struct {} {{ {}}};\"\n", name, body);
    ++structs;
  }
  fmt::format_to(out, "fs *\n");
  if (counts)
    *counts = {m.functions.size(), m.names.size(), m.comments.size(), m.xrefs.size(), structs};
  return fmt::to_string(b);
}

} // namespace sb::exporters
