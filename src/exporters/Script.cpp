// The pieces the IDA, Ghidra and Binary Ninja writers share.
#include "Script.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace sb::exporters::script {
namespace {
// The next code point of a UTF-8 string (U+FFFD for a byte that starts none).
uint32_t nextCodePoint(std::string_view s, size_t &i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + len > s.size()) {
    ++i;
    return 0xfffd;
  }
  uint32_t cp = len == 1 ? c : c & (0x7f >> len);
  for (size_t k = 1; k < len; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) {
      ++i;
      return 0xfffd;
    }
    cp = cp << 6 | (b(i + k) & 0x3f);
  }
  i += len;
  return cp;
}

std::string uniqueName(std::string base, std::set<std::string> &taken, uint64_t rva) {
  if (!taken.insert(base).second) {
    base += fmt::format("_{:x}", rva);
    taken.insert(base);
  }
  return base;
}

std::string intType(unsigned size, CFlavor flavor) {
  if (flavor == CFlavor::Ida)
    return fmt::format("unsigned __int{}", size * 8);
  return fmt::format("uint{}_t", size * 8);
}
} // namespace

std::string pyString(std::string_view utf8) {
  std::string out = "u\"";
  for (size_t i = 0; i < utf8.size();) {
    uint32_t cp = nextCodePoint(utf8, i);
    if (cp == '"' || cp == '\\')
      out += {'\\', char(cp)};
    else if (cp >= 0x20 && cp < 0x7f)
      out += char(cp);
    else if (cp < 0x100)
      out += fmt::format("\\x{:02x}", cp);
    else if (cp < 0x10000)
      out += fmt::format("\\u{:04x}", cp);
    else
      out += fmt::format("\\U{:08x}", cp);
  }
  return out + "\"";
}

std::string oneLine(std::string_view s) {
  std::string out;
  for (char c : s)
    out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

std::vector<std::string> structTypeNames(const ExportModel &m) {
  std::set<std::string> taken;
  std::vector<std::string> out;
  for (size_t i = 0; i < m.structs.size(); ++i)   // a clash (A<B> and A_B_) takes the index
    out.push_back(uniqueName("sb_" + cIdentifier(m.structs[i].name), taken, i));
  return out;
}

std::vector<std::string> vftableTypeNames(const ExportModel &m) {
  // Not one of the structures' names.
  std::vector<std::string> structs = structTypeNames(m);
  std::set<std::string> taken(structs.begin(), structs.end());
  std::vector<std::string> out;
  for (const ExportVftable &v : m.vftables) {
    std::string owner = cIdentifier(v.className.empty() ? fmt::format("{:x}", v.rva) : v.className);
    out.push_back(uniqueName("sb_" + owner + "_vftbl", taken, v.rva));
  }
  return out;
}

std::string enumMemberName(const ExportEnumMember &member, std::string_view prefix) {
  return std::string(prefix) + cIdentifier(member.name);
}

std::vector<CDecl> cDeclarations(const ExportModel &m, CFlavor flavor, std::string_view enumPrefix) {
  std::vector<CDecl> out;
  const std::vector<std::string> structNames = structTypeNames(m), vftableNames = vftableTypeNames(m);
  for (size_t i = 0; i < m.structs.size(); ++i) {
    const ExportStruct &s = m.structs[i];
    std::string body;
    uint64_t at = 0;
    auto pad = [&](uint64_t to) {
      if (to > at)
        body += fmt::format(" {} pad_{:x}[{}];", intType(1, flavor), at, to - at);
    };
    for (const ExportField &f : s.fields) {
      pad(f.offset);
      if (f.size == 1 || f.size == 2 || f.size == 4 || f.size == 8)
        body += fmt::format(" {} {};", intType(f.size, flavor), f.name);
      else
        body += fmt::format(" {} {}[{}];", intType(1, flavor), f.name, f.size);
      at = f.offset + f.size;
    }
    pad(s.size);
    out.push_back({structNames[i], fmt::format("struct {} {{{} }};", structNames[i], body)});
  }
  for (size_t i = 0; i < m.vftables.size(); ++i) {
    std::string body;
    for (size_t k = 0; k < m.vftables[i].slots.size(); ++k)
      body += fmt::format(" void *slot_{};", k);
    out.push_back({vftableNames[i], fmt::format("struct {} {{{} }};", vftableNames[i], body)});
  }
  for (const ExportEnum &e : m.enums) {
    std::string body;
    for (const ExportEnumMember &em : e.members)
      body += fmt::format("{} {} = {:#x}", body.empty() ? "" : ",", enumMemberName(em, enumPrefix), em.value);
    out.push_back({e.name, fmt::format("enum {} {{{} }};", e.name, body)});
  }
  return out;
}

std::vector<bool> commentAtStart(const ExportModel &m) {
  std::set<uint64_t> starts;
  for (const ExportFunction &f : m.functions)
    starts.insert(f.rva);
  for (const ExportName &n : m.names)
    if (n.label)
      starts.insert(n.rva);
  std::vector<bool> out;
  for (const ExportComment &c : m.comments)
    out.push_back(starts.count(c.rva) != 0);
  return out;
}

unsigned nameFlags(const ExportName &n) {
  return (n.function ? 1u : 0u) | (n.label ? 2u : 0u) | (names::isRecovered(n.source) ? 0u : 4u);
}

std::string header(const ExportModel &m, std::string_view tool, std::string_view howToRun) {
  std::string out = fmt::format("# switchboard export for {} ({})\n", tool, howToRun);
  out += fmt::format("# binary: {} ({} bytes)\n# sha256: {}\n", oneLine(m.moduleFile), m.fileSize, m.sha256);
  out += fmt::format("# {} functions, {} names, {} comments, {} xrefs, {} structures, {} vftables, {} enums, "
                     "{} bookmarks\n",
                     m.functions.size(), m.names.size(), m.comments.size(), m.xrefs.size(), m.structs.size(),
                     m.vftables.size(), m.enums.size(), m.bookmarks.size());
  out += "# It refuses a database of another file, and running it twice leaves what running it once did.\n";
  out += fmt::format("MODULE = {}\nSHA256 = \"{}\"\nFILE_SIZE = {}\nIMAGE_BASE = {}\n", pyString(m.moduleFile),
                     m.sha256, m.fileSize, hex(m.imageBase));
  return out;
}

std::string commonTables(const ExportModel &m) {
  fmt::memory_buffer b;
  auto out = std::back_inserter(b);
  fmt::format_to(out, "FUNCS = [\n");
  for (const ExportFunction &f : m.functions)
    fmt::format_to(out, "{},\n", hex(f.rva));
  fmt::format_to(out, "]\nTAILS = [\n");
  for (const ExportFunction &f : m.functions)
    for (size_t c = 1; c < f.chunks.size(); ++c)
      fmt::format_to(out, "({}, {}, {}),\n", hex(f.rva), hex(f.chunks[c].rva), hex(f.chunks[c].end));
  fmt::format_to(out, "]\nCOMMENTS = [\n");
  const std::vector<bool> atStart = commentAtStart(m);
  for (size_t i = 0; i < m.comments.size(); ++i)
    fmt::format_to(out, "({}, {}, {}),\n", hex(m.comments[i].rva), pyString(m.comments[i].text), atStart[i] ? 1 : 0);
  fmt::format_to(out, "]\nXREFS = [\n");
  for (const ExportXref &x : m.xrefs)
    fmt::format_to(out, "({}, {}, {}),\n", hex(x.from), hex(x.to),
                   x.type == XrefType::Code ? 0 : x.type == XrefType::Call ? 1 : 2);
  fmt::format_to(out, "]\nBOOKMARKS = [\n");
  for (const ExportBookmark &bm : m.bookmarks)
    fmt::format_to(out, "({}, {}),\n", hex(bm.rva), pyString(bm.text));
  fmt::format_to(out, "]\n");
  return fmt::to_string(b);
}

std::string mergeFunction() {
  return "def merged(old, text):\n"
         "    if not old:\n"
         "        return text\n"
         "    if text in old:\n"
         "        return old\n"
         "    return old + u\"\\n\" + text\n";
}

} // namespace sb::exporters::script
