// The export model: built once from the session's graph, naming service,
// functions and object model; every writer renders it.
#include "switchboard/exporters/Exporter.h"

#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/support/Hash.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <tuple>
#include <unordered_map>

namespace sb::exporters {

const char *toolName(Tool t) {
  switch (t) {
  case Tool::Radare2: return "r2";
  case Tool::X64dbg: return "x64dbg";
  case Tool::Ida: return "ida";
  case Tool::Ghidra: return "ghidra";
  case Tool::Binja: return "binja";
  }
  return "r2";
}

std::optional<Tool> parseTool(std::string_view name) {
  if (name == "r2" || name == "radare2")
    return Tool::Radare2;
  if (name == "x64dbg" || name == "x32dbg")
    return Tool::X64dbg;
  if (name == "ida")
    return Tool::Ida;
  if (name == "ghidra")
    return Tool::Ghidra;
  if (name == "binja" || name == "binaryninja")
    return Tool::Binja;
  return std::nullopt;
}

const char *xrefTypeName(XrefType t) {
  switch (t) {
  case XrefType::Code: return "code";
  case XrefType::Call: return "call";
  case XrefType::Data: return "data";
  }
  return "code";
}

std::string render(Tool tool, const ExportModel &model, ExportCounts *counts) {
  switch (tool) {
  case Tool::Radare2: return renderRadare2(model, counts);
  case Tool::X64dbg: return renderX64dbg(model, counts);
  case Tool::Ida: return renderIda(model, counts);
  case Tool::Ghidra: return renderGhidra(model, counts);
  case Tool::Binja: return renderBinja(model, counts);
  }
  return {};
}

std::string defaultExtension(Tool tool, const ExportModel &model) {
  switch (tool) {
  case Tool::Radare2: return ".r2";
  case Tool::X64dbg: return model.is64 ? ".dd64" : ".dd32";
  // One script per tool next to each other: the tool in the name.
  case Tool::Ida: return ".ida.py";
  case Tool::Ghidra: return ".ghidra.py";
  case Tool::Binja: return ".binja.py";
  }
  return {};
}

namespace {
// How a tool should see the reference an edge makes: a call for the calls it
// resolves, a code reference for control the site passes elsewhere (a sent
// message, a throw, a funclet), a data reference for a code pointer handed
// over (registrations, subclassing, callbacks, initializer tables).
XrefType xrefTypeOf(graph::EdgeKind k) {
  using K = graph::EdgeKind;
  switch (k) {
  case K::IndirectCall:
  case K::VirtualCall: return XrefType::Call;
  case K::Message:
  case K::Throw:
  case K::Funclet: return XrefType::Code;
  default: return XrefType::Data;
  }
}

// The target names a comment lists; the rest are counted.
constexpr size_t kListed = 6;
std::string targetList(const std::vector<std::string> &names, size_t total) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i ? ", " : "") + names[i];
  if (total > names.size())
    out += fmt::format(", +{} more", total - names.size());
  return out;
}

// The comment one edge puts at its site (a funclet edge: at the funclet);
// appended to out[rva].
void edgeComment(const Analysis &a, const graph::Edge &e, std::map<uint64_t, std::vector<std::string>> &out) {
  const graph::Graph &g = a.graph();
  auto nameOf = [&](uint64_t rva) {
    if (const names::Name *n = a.names().at(rva))
      return n->text;
    return a.describe(uint32_t(rva));
  };
  using K = graph::EdgeKind;
  // Only the names the comment shows are looked up (a set may hold
  // thousands of candidates).
  std::span<const uint64_t> all = g.targets(e);
  std::vector<std::string> targets;
  for (size_t i = 0; i < all.size() && i < kListed; ++i)
    targets.push_back(nameOf(all[i]));
  if (!e.toModule.empty())
    targets.push_back(e.toModule + "!" + e.toName);
  const size_t total = e.toModule.empty() ? all.size() : 1;
  const std::string list = targetList(targets, total);
  std::string text;
  uint64_t at = e.from;
  switch (e.kind) {
  case K::Message:
    text = fmt::format("{} -> {} [{}]", e.detail.empty() ? "send" : e.detail, list, e.label);
    break;
  case K::VirtualCall:
    text = total == 1 ? fmt::format("vcall {} -> {}", e.label, list)
                      : fmt::format("vcall {} -> {} candidates: {}", e.label, total, list);
    if (!e.detail.empty())
      text += fmt::format(" (receiver {})", e.detail);
    break;
  case K::Throw:
    text = fmt::format("throw {} -> catch: {}", e.label, targets.empty() ? "none" : list);
    break;
  case K::Funclet:
    // At the funclet: what it is, and whose.
    for (uint64_t t : g.targets(e))
      out[t].push_back(fmt::format("funclet {} of {}", e.label, nameOf(e.from)));
    return;
  case K::Registration:
    text = fmt::format("registration {} -> {}", e.label, list);
    break;
  case K::Subclass:
    text = fmt::format("subclass {} -> {}", e.label, list);
    break;
  case K::Callback:
    text = fmt::format("callback {} -> {}", e.label, list);
    break;
  case K::IndirectCall:
    text = fmt::format("indirect call -> {}", list);
    break;
  case K::StaticInit:
    text = fmt::format("static initializer{} -> {}", e.label.empty() ? "" : " " + e.label, list);
    break;
  case K::AtExit:
    text = fmt::format("atexit -> {}", list);
    break;
  default:
    return;
  }
  out[at].push_back(std::move(text));
}

class Builder {
  static constexpr size_t kMaxXrefTargets = 32;

public:
  explicit Builder(const Analysis &a) : a_(a), names_(a.names()), g_(a.graph()) {}

  std::string nameOf(uint64_t rva) const {
    if (const names::Name *n = names_.at(rva))
      return n->text;
    return a_.describe(uint32_t(rva));
  }

  ExportModel build(std::string moduleFile) {
    const pe::PeImage &img = a_.image();
    ExportModel m;
    m.moduleFile = std::move(moduleFile);
    m.sha256 = sha256Hex(img.fileBytes());
    m.fileSize = img.fileBytes().size();
    m.imageBase = img.imageBase();
    m.sizeOfImage = img.headers().sizeOfImage;
    m.is64 = img.is64();
    auto inImage = [&](uint64_t rva) { return rva > 0 && rva < m.sizeOfImage; };

    // Functions, with the naming service's names.
    std::set<uint64_t> functionStarts;
    for (const code::Function &f : a_.functions()) {
      if (!inImage(f.rva))
        continue;
      ExportFunction ef;
      ef.rva = f.rva;
      const names::Name *n = names_.at(f.rva);
      ef.name = n && !n->label ? n->text : f.name;
      // Chunks as disjoint ranges (a chained fragment may lie inside the
      // main chunk): their union, the range holding the entry first.
      std::vector<ExportChunk> ranges;
      for (const code::Range &c : f.chunks)
        if (c.end > c.rva)
          ranges.push_back({c.rva, c.end});
      if (std::none_of(ranges.begin(), ranges.end(), [&](const ExportChunk &c) { return c.rva <= f.rva && f.rva < c.end; }))
        ranges.push_back({f.rva, std::max<uint64_t>(f.end(), f.rva + 1)});
      std::sort(ranges.begin(), ranges.end(), [](const auto &x, const auto &y) { return x.rva < y.rva; });
      for (const ExportChunk &c : ranges)
        if (!ef.chunks.empty() && c.rva <= ef.chunks.back().end)
          ef.chunks.back().end = std::max(ef.chunks.back().end, c.end);
        else
          ef.chunks.push_back(c);
      auto entry = std::find_if(ef.chunks.begin(), ef.chunks.end(),
                                [&](const ExportChunk &c) { return c.rva <= f.rva && f.rva < c.end; });
      std::rotate(ef.chunks.begin(), entry, entry + 1);
      std::span<const uint8_t> bytes = img.bytesFromRva(f.rva);
      ef.trapEntry = bytes.size() >= 2 && bytes[0] == 0x0f && bytes[1] == 0x0b;
      functionStarts.insert(f.rva);
      m.functions.push_back(std::move(ef));
    }
    std::sort(m.functions.begin(), m.functions.end(), [](const auto &x, const auto &y) { return x.rva < y.rva; });

    // Vftable sizes, from the object model.
    const cxx::ObjectModel &om = a_.objectModel();
    std::unordered_map<uint64_t, uint32_t> sizes;
    for (const cxx::Vftable &v : om.vftables)
      sizes[v.rva] = uint32_t(v.slots.size() * (m.is64 ? 8 : 4));

    // Every name (functions included: a debugger shows them as labels).
    for (const auto &[rva, n] : names_.all()) {
      if (!inImage(rva) || n.text.empty())
        continue;
      ExportName en;
      en.rva = rva;
      en.text = n.text;
      en.source = n.source;
      en.label = n.label;
      en.function = !n.label && functionStarts.count(rva);
      if (auto it = sizes.find(rva); it != sizes.end())
        en.size = it->second;
      m.names.push_back(std::move(en));
    }
    // A function the naming service does not name keeps the model's name.
    std::set<uint64_t> named;
    for (const ExportName &n : m.names)
      if (n.function)
        named.insert(n.rva);
    for (const ExportFunction &f : m.functions)
      if (!named.count(f.rva) && !f.name.empty()) {
        ExportName en;
        en.rva = f.rva;
        en.text = f.name;
        en.function = true;
        m.names.push_back(std::move(en));
      }
    std::stable_sort(m.names.begin(), m.names.end(),
                     [](const auto &x, const auto &y) { return std::tie(x.rva, y.function) < std::tie(y.rva, x.function); });
    // A label and a function name at one address: the function's wins, the
    // label goes (one name per address in every tool).
    m.names.erase(std::unique(m.names.begin(), m.names.end(), [](const auto &x, const auto &y) { return x.rva == y.rva; }),
                  m.names.end());

    // Comments and cross-references: every edge but the calls the tools see.
    std::map<uint64_t, std::vector<std::string>> comments;
    for (const graph::Edge &e : g_.edges()) {
      if (e.kind == graph::EdgeKind::Call || e.kind == graph::EdgeKind::TailCall)
        continue;
      if (!inImage(e.from))
        continue;
      edgeComment(a_, e, comments);
      // A candidate set larger than kMaxXrefTargets ("slot 2 of every
      // vftable") says nothing a reference could: its comment counts them.
      if (g_.targets(e).size() > kMaxXrefTargets)
        continue;
      for (uint64_t t : g_.targets(e))
        if (inImage(t) && t != e.from)
          m.xrefs.push_back({e.from, t, xrefTypeOf(e.kind), e.kind});
    }
    // Dispatch cases: each handler label the naming service gives.
    for (const ExportName &n : m.names)
      if (n.label && n.source == names::Source::MessageHandler)
        comments[n.rva].insert(comments[n.rva].begin(), fmt::format("dispatch case {}", n.text));
    for (auto &[rva, texts] : comments) {
      texts.erase(std::unique(texts.begin(), texts.end()), texts.end());
      std::string joined;
      for (const std::string &t : texts)
        joined += (joined.empty() ? "" : "; ") + t;
      if (inImage(rva))
        m.comments.push_back({rva, std::move(joined)});
    }
    std::sort(m.xrefs.begin(), m.xrefs.end(), [](const auto &x, const auto &y) {
      return std::tie(x.to, x.from, x.kind) < std::tie(y.to, y.from, y.kind);
    });
    // One reference per (from, to): the first kind's.
    m.xrefs.erase(std::unique(m.xrefs.begin(), m.xrefs.end(),
                              [](const auto &x, const auto &y) { return x.to == y.to && x.from == y.from; }),
                  m.xrefs.end());

    // Class layouts with a known size.
    for (const cxx::Class &c : om.classes) {
      if (!c.size || *c.size == 0 || *c.size > (1u << 20))
        continue;
      ExportStruct s;
      s.name = c.name;
      s.size = *c.size;
      uint64_t next = 0;
      std::vector<cxx::Field> fields = c.fields;
      std::sort(fields.begin(), fields.end(), [](const auto &x, const auto &y) { return x.offset < y.offset; });
      for (const cxx::Field &f : fields) {
        if (f.offset < 0 || uint64_t(f.offset) < next || f.size == 0 || uint64_t(f.offset) + f.size > s.size)
          continue;
        std::string kind = !f.note.empty() ? f.note : f.memberClass >= 0 ? "member" : "field";
        std::string name = fmt::format("{}_{:x}", kind, f.offset);
        s.fields.push_back({uint64_t(f.offset), f.size, names::identifierPart(name)});
        next = uint64_t(f.offset) + f.size;
      }
      m.structs.push_back(std::move(s));
    }
    std::sort(m.structs.begin(), m.structs.end(), [](const auto &x, const auto &y) { return x.name < y.name; });
    m.structs.erase(std::unique(m.structs.begin(), m.structs.end(),
                                [](const auto &x, const auto &y) { return x.name == y.name; }),
                    m.structs.end());
    addVftables(m, inImage);
    addDispatchEnums(m);
    addBookmarks(m, inImage);
    return m;
  }

  // Every vftable the object model found, with its slots' targets.
  template <class InImage> void addVftables(ExportModel &m, InImage inImage) const {
    const cxx::ObjectModel &om = a_.objectModel();
    for (const cxx::Vftable &v : om.vftables) {
      if (!inImage(v.rva) || v.slots.empty())
        continue;
      ExportVftable ev;
      ev.rva = v.rva;
      ev.name = nameOf(v.rva);
      if (v.classIndex >= 0 && size_t(v.classIndex) < om.classes.size())
        ev.className = om.classes[size_t(v.classIndex)].name;
      for (const cxx::Slot &s : v.slots)
        ev.slots.push_back(s.targetRva);
      m.vftables.push_back(std::move(ev));
    }
    std::sort(m.vftables.begin(), m.vftables.end(), [](const auto &x, const auto &y) { return x.rva < y.rva; });
  }

  // The constants the procedures dispatch on: each message a case handles
  // (by the name its case gives it; registered messages have no constant),
  // each WM_COMMAND id a handler tests.
  void addDispatchEnums(ExportModel &m) const {
    std::map<std::string, uint64_t> messages, commands;
    for (const messages::Procedure &p : a_.messageFlow().procedures)
      for (const messages::Case &c : p.cases) {
        if (c.message.registeredName.empty()) {
          std::string name = c.text.substr(0, c.text.find(" ("));
          messages.emplace(cIdentifier(name.empty() ? fmt::format("msg_{:04X}", c.message.id) : name), c.message.id);
        }
        for (const auto &[id, handler] : c.commands)
          commands.emplace(fmt::format("ID_{}", id), id);
      }
    for (auto [name, members] : {std::pair{"sb_window_messages", &messages}, {"sb_command_ids", &commands}}) {
      if (members->empty())
        continue;
      ExportEnum e;
      e.name = name;
      for (const auto &[n, v] : *members)
        e.members.push_back({n, v});
      std::stable_sort(e.members.begin(), e.members.end(), [](const auto &x, const auto &y) { return x.value < y.value; });
      m.enums.push_back(std::move(e));
    }
    std::sort(m.enums.begin(), m.enums.end(), [](const auto &x, const auto &y) { return x.name < y.name; });
  }

  // A bookmark at each procedure that receives messages: where a reader of
  // a GUI program starts.
  template <class InImage> void addBookmarks(ExportModel &m, InImage inImage) const {
    const messages::MessageFlow &mf = a_.messageFlow();
    std::map<uint64_t, std::string> marks;
    for (const messages::Procedure &p : mf.procedures) {
      if (!inImage(p.rva))
        continue;
      std::string text = fmt::format("{}: {} procedure", nameOf(p.rva), messages::procKindName(p.kind));
      if (!p.classes.empty()) {
        text += " (class";
        for (const std::string &c : p.classes)
          text += " " + c;
        text += ")";
      }
      if (!p.cases.empty())
        text += fmt::format(", {} cases", p.cases.size());
      marks.emplace(p.rva, std::move(text));
    }
    for (auto &[rva, text] : marks)
      m.bookmarks.push_back({rva, std::move(text)});
  }

private:
  const Analysis &a_;
  const names::NameService &names_;
  const graph::Graph &g_;
};
} // namespace

std::vector<SiteComment> siteComments(const Analysis &a) {
  std::vector<SiteComment> out;
  std::map<uint64_t, std::vector<std::string>> one;
  for (const graph::Edge &e : a.graph().edges()) {
    if (e.kind == graph::EdgeKind::Call || e.kind == graph::EdgeKind::TailCall)
      continue;
    one.clear();
    edgeComment(a, e, one);
    for (auto &[rva, texts] : one)
      for (std::string &t : texts)
        out.push_back({rva, e.kind, std::move(t)});
  }
  return out;
}

ExportModel buildExportModel(const Analysis &a, std::string moduleFile) { return Builder(a).build(std::move(moduleFile)); }

} // namespace sb::exporters
