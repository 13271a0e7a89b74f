// The radare2 writer: an r2 script (r2 -i script.r2 FILE) for radare2 6.x.
// Idempotent: every command that adds something first removes what an
// earlier run added (f-, CC-, ax-) or checks that it is not there (af+), so
// loading it twice leaves what loading it once did. It refuses a file whose sha256 is not the one it was
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

std::vector<std::vector<ExportChunk>> radare2Blocks(const ExportModel &m) {
  std::vector<std::vector<ExportChunk>> out(m.functions.size());
  std::map<uint64_t, uint64_t> claimed;   // start -> end of the blocks given
  auto overlaps = [&](uint64_t rva, uint64_t end) {
    auto it = claimed.lower_bound(end);
    return it != claimed.begin() && std::prev(it)->second > rva;
  };
  for (size_t i = 0; i < m.functions.size(); ++i) {
    const ExportFunction &f = m.functions[i];
    if (f.trapEntry)
      continue;
    ExportChunk main = f.chunks.front();
    if (i + 1 < m.functions.size())
      main.end = std::min(main.end, m.functions[i + 1].rva);
    main.rva = f.rva;   // the entry starts the block
    if (main.end <= main.rva || overlaps(main.rva, main.end))
      continue;
    out[i].push_back(main);
    claimed[main.rva] = main.end;
  }
  for (size_t i = 0; i < m.functions.size(); ++i) {
    if (out[i].empty())
      continue;
    for (size_t c = 1; c < m.functions[i].chunks.size(); ++c) {
      const ExportChunk &k = m.functions[i].chunks[c];
      auto entry = std::lower_bound(m.functions.begin(), m.functions.end(), k.rva,
                                    [](const ExportFunction &f, uint64_t rva) { return f.rva < rva; });
      if (overlaps(k.rva, k.end) || (entry != m.functions.end() && entry->rva < k.end))
        continue;
      out[i].push_back(k);
      claimed[k.rva] = k.end;
    }
  }
  return out;
}

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

  // Functions: hand-made (af+) with their chunks as blocks (afb+). Not
  // af- first: it undefines the function *holding* the address, with its
  // comments and flags.
  std::map<uint64_t, size_t> nameIndex;
  for (size_t i = 0; i < m.names.size(); ++i)
    nameIndex[m.names[i].rva] = i;
  fmt::format_to(out, "# functions\n");
  size_t functions = 0;
  const std::vector<std::vector<ExportChunk>> blocks = radare2Blocks(m);
  for (size_t i = 0; i < m.functions.size(); ++i) {
    const ExportFunction &f = m.functions[i];
    if (blocks[i].empty()) {
      fmt::format_to(out, "# 0x{:x}: a ud2 stub, no r2 function (its name is a flag)\n", va(f.rva));
      continue;
    }
    ++functions;
    auto it = nameIndex.find(f.rva);
    const std::string name =
        it != nameIndex.end() && m.names[it->second].function ? names[it->second] : sanitizeName(Tool::Radare2, f.name);
    // $FB: the start of the function holding the address (one at most: see
    // radare2Blocks). af+ only where none starts there (a second af+ is an
    // error), afb+ only where the block is not yet the function's (a second
    // one analyzes its variables again, doubling them), and afn names a
    // function an earlier analysis made.
    fmt::format_to(out, "?= $FB-0x{0:x} @ 0x{0:x}\n??af+ 0x{0:x} {1}\n", va(f.rva), name);
    for (const ExportChunk &c : blocks[i])
      fmt::format_to(out, "?= $FB-0x{0:x} @ 0x{1:x}\n??afb+ 0x{0:x} 0x{1:x} {2}\n", va(f.rva), va(c.rva),
                     c.end - c.rva);
    fmt::format_to(out, "afn {} 0x{:x}\n", name, va(f.rva));
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

  // Cross-references: ax- to from, then the typed add. radare2 6.2.0's
  // `ax-` crashes on an address nothing references yet (it walks the NULL
  // list r_anal_xrefs_get returns), so one is added first.
  fmt::format_to(out, "# xrefs\n");
  for (const ExportXref &x : m.xrefs)
    fmt::format_to(out, "axd 0x{0:x} 0x{1:x}\nax- 0x{0:x} 0x{1:x}\n{2} 0x{0:x} 0x{1:x}\n", va(x.to), va(x.from),
                   xrefCommand(x.type));

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
    *counts = {functions, m.names.size(), m.comments.size(), m.xrefs.size(), structs};
  return fmt::to_string(b);
}

} // namespace sb::exporters
