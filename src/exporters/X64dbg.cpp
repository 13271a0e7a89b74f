// The x64dbg writer: a database (.dd64 for x64, .dd32 for x86) that x64dbg
// loads for the module (put it in x64dbg's db/ directory as
// <module>.dd64, or load it with `dbload`).
//
// The format is the one x64dbg's own sources write (x64dbg/x64dbg at
// 529f36dd, July 2025): src/dbg/database.cpp (DbSave: one JSON object,
// json_dump_callback with JSON_INDENT(1); LZ4 compression optional, and a
// file that is no LZ4 archive is read as plain JSON), src/dbg/addrinfo.h
// (AddrInfoSerializer: "module", "address" as json_hex, "manual"),
// src/dbg/jansson/jansson_x64dbg.h (json_hex: "0x%llX", module-relative),
// src/dbg/comment.cpp and label.cpp ("comments"/"labels": + "text";
// MAX_COMMENT_SIZE 512, MAX_LABEL_SIZE 256 in src/bridge/bridgemain.h),
// src/dbg/bookmark.cpp ("bookmarks"), src/dbg/function.cpp ("functions":
// "module", "start", "end" (inclusive), "icount", "manual", "parent"; no two
// may overlap) and src/dbg/xrefs.cpp ("xrefs": + "references": [{"addr",
// "type"}], XREF_DATA 1, XREF_JMP 2, XREF_CALL 3 from src/bridge/bridgemain.h).
// No "hash": x64dbg then skips its content-hash check (a murmurhash of the
// loaded module's memory, which the file alone does not give).
#include "switchboard/exporters/Exporter.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace sb::exporters {
namespace {
using json = nlohmann::ordered_json;

std::string hexValue(uint64_t v) { return fmt::format("0x{:X}", v); }

// Fewer than MAX_COMMENT_SIZE - 1 bytes, one line, not starting with \1.
std::string commentText(std::string_view s) {
  std::string out;
  for (unsigned char c : s)
    out += c < 0x20 || c == 0x7f ? ' ' : char(c);
  if (out.size() > 510) {
    size_t n = 506;
    while (n > 0 && (static_cast<unsigned char>(out[n]) & 0xc0) == 0x80)
      --n;
    out.resize(n);
    out += "...";
  }
  return out;
}

int xrefType(XrefType t) {
  switch (t) {
  case XrefType::Data: return 1;   // XREF_DATA
  case XrefType::Code: return 2;   // XREF_JMP
  case XrefType::Call: return 3;   // XREF_CALL
  }
  return 1;
}
} // namespace

std::string renderX64dbg(const ExportModel &m, ExportCounts *counts) {
  const std::string module = [&] {
    std::string s = m.moduleFile;
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
  }();
  auto addrInfo = [&](uint64_t rva) {
    return json{{"module", module}, {"address", hexValue(rva)}, {"manual", true}};
  };
  ExportCounts n;
  json root = json::object();

  json comments = json::array();
  for (const ExportComment &c : m.comments) {
    json j = addrInfo(c.rva);
    j["text"] = commentText(c.text);
    comments.push_back(std::move(j));
  }
  n.comments = comments.size();

  json labels = json::array();
  const std::vector<std::string> names = toolNames(m, Tool::X64dbg);
  for (size_t i = 0; i < m.names.size(); ++i) {
    json j = addrInfo(m.names[i].rva);
    j["text"] = names[i];
    labels.push_back(std::move(j));
  }
  n.names = labels.size();

  // Bookmarks: the procedures the image hands to the system (window, dialog
  // and subclass procedures, callbacks): where a debugging session starts.
  std::set<uint64_t> marked;
  for (const ExportXref &x : m.xrefs)
    if (x.kind == graph::EdgeKind::Registration || x.kind == graph::EdgeKind::Subclass ||
        x.kind == graph::EdgeKind::Callback)
      marked.insert(x.to);
  json bookmarks = json::array();
  for (uint64_t rva : marked)
    bookmarks.push_back(addrInfo(rva));

  // Functions: each chunk a range, the fragments with their function as
  // "parent"; ranges never overlap (x64dbg's range map refuses that).
  struct Piece { uint64_t start, end, parent; };
  std::vector<Piece> pieces;
  for (const ExportFunction &f : m.functions)
    for (const ExportChunk &c : f.chunks)
      pieces.push_back({c.rva, c.end - 1, f.rva});
  std::stable_sort(pieces.begin(), pieces.end(), [](const Piece &x, const Piece &y) { return x.start < y.start; });
  json functions = json::array();
  std::set<uint64_t> withFunction;
  uint64_t next = 0;
  for (const Piece &p : pieces) {
    if (p.start < next)
      continue;
    functions.push_back({{"module", module}, {"start", hexValue(p.start)}, {"end", hexValue(p.end)},
                         {"icount", hexValue(0)}, {"manual", true}, {"parent", hexValue(p.parent)}});
    if (p.start == p.parent)
      withFunction.insert(p.start);
    next = p.end + 1;
  }
  n.functions = withFunction.size();

  // Cross-references, by target.
  std::map<uint64_t, json> byTarget;
  for (const ExportXref &x : m.xrefs) {
    json &j = byTarget[x.to];
    if (j.is_null()) {
      j = addrInfo(x.to);
      j["references"] = json::array();
    }
    j["references"].push_back({{"addr", hexValue(x.from)}, {"type", hexValue(xrefType(x.type))}});
    ++n.xrefs;
  }
  json xrefs = json::array();
  for (auto &[to, j] : byTarget)
    xrefs.push_back(std::move(j));

  // DbSave's order; x64dbg leaves out an empty array.
  for (auto &[key, value] : {std::pair<const char *, json *>{"comments", &comments}, {"labels", &labels},
                             {"bookmarks", &bookmarks}, {"functions", &functions}, {"xrefs", &xrefs}})
    if (!value->empty())
      root[key] = std::move(*value);
  if (counts)
    *counts = n;
  return root.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

} // namespace sb::exporters
