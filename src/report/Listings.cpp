// Listings of the functions the report names, as `disasm` shows them (every
// block in address order, labelled, names at the addresses operands refer
// to) with the comment every hidden edge puts at its site, within a budget
// of instructions so that a large image's report stays small.
#include "Sections.h"

#include "switchboard/code/Disassembly.h"
#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"
#include "switchboard/exporters/Exporter.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/names/Names.h"

#include <fmt/format.h>

#include <map>
#include <set>

namespace sb::report {

namespace {
// The functions to list, most important first: the message procedures and
// the helpers they forward to, the functions of the message and
// registration sites, the C++ structors and the functions of the throw and
// funclet edges, then those of the other hidden edges.
std::vector<uint32_t> wanted(const Analysis &a) {
  std::vector<uint32_t> out;
  std::set<uint32_t> seen;
  auto add = [&](uint64_t rva) {
    if (const code::Function *f = a.functionContaining(uint32_t(rva)); f && seen.insert(f->rva).second)
      out.push_back(f->rva);
  };
  for (const messages::Procedure &p : a.messageFlow().procedures) {
    add(p.rva);   // an MFC map is data: no function there
    for (uint32_t h : p.forwardedTo)
      add(h);
    if (p.kind == messages::ProcKind::Mfc || p.kind == messages::ProcKind::Atl)
      for (const messages::Case &c : p.cases)
        add(c.handlerFunction ? c.handlerFunction : c.handlerRva);
  }
  using K = graph::EdgeKind;
  auto edgesOf = [&](std::initializer_list<K> kinds) {
    for (const graph::Edge &e : a.graph().edges())
      if (std::find(kinds.begin(), kinds.end(), e.kind) != kinds.end())
        add(e.from);
  };
  edgesOf({K::Message, K::Registration, K::Subclass});
  for (const cxx::Structor &s : a.objectModel().structors)
    add(s.rva);
  edgesOf({K::Throw, K::Funclet});
  edgesOf({K::VirtualCall, K::IndirectCall, K::Callback, K::StaticInit, K::AtExit});
  return out;
}

class Lister {
public:
  explicit Lister(const Analysis &a) : a_(a), dis_(a.image()) {
    for (exporters::SiteComment &c : exporters::siteComments(a))
      comments_[c.rva].push_back(std::move(c.text));
  }

  // The function's lines, or nothing when it holds more than `budget`
  // instructions; *count: how many it holds.
  std::optional<std::string> list(const code::Function &f, size_t budget, size_t *count) const {
    std::string out;
    size_t n = 0;
    for (const code::BasicBlock &b : f.blocks) {
      for (uint32_t pc = b.rva; pc < b.end;) {
        if (++n > budget)
          return std::nullopt;
        label(f, pc, out);
        auto in = dis_.at(pc);
        if (!in) {
          out += fmt::format("{:x}\t??\t\n", pc);
          break;
        }
        out += fmt::format("{:x}\t{}\t{}\n", pc, in->text, note(f, *in));
        pc = in->next();
      }
    }
    *count = n;
    return out;
  }

private:
  void label(const code::Function &f, uint32_t pc, std::string &out) const {
    const names::Name *n = a_.names().at(pc);
    if (pc == f.rva)
      out += ":" + (n ? n->text : f.name) + "\n";
    else if (n)
      out += ":" + n->text + "\n";
  }

  // "WndProc_Main+0x38": the naming service's name of the function holding
  // rva (its model's when it has none), and the offset if any.
  std::string inside(uint32_t rva) const {
    const code::Function *f = a_.functionContaining(rva);
    if (!f)
      return a_.describe(rva);
    std::string name = a_.names().textAt(f->rva).value_or(f->name);
    return rva == f->rva ? name : fmt::format("{}+0x{:x}", name, rva - f->rva);
  }

  // Names of what the operands refer to, the switch table a jump reads,
  // and the comments of the edges at this site.
  std::string note(const code::Function &f, const code::Instruction &in) const {
    const pe::PeImage &img = a_.image();
    std::vector<std::string> parts;
    for (uint64_t va : in.references) {
      auto r = img.vaToRva(va);
      if (!r || !img.isMappedRva(*r))
        continue;
      if (auto n = a_.names().textAt(*r))
        parts.push_back(*n);
      else if (img.isExecutableRva(*r) && in.callOrJump)
        parts.push_back(inside(*r));
    }
    for (const code::JumpTable &jt : f.jumpTables)
      if (jt.jumpRva == in.rva)
        parts.push_back(fmt::format("switch table at {:x}, {} entries", jt.tableRva, jt.targets.size()));
    if (auto it = comments_.find(in.rva); it != comments_.end())
      parts.insert(parts.end(), it->second.begin(), it->second.end());
    std::string out;
    for (const std::string &p : parts)
      out += (out.empty() ? "" : "; ") + p;
    // The line format's separators stay out of the note.
    std::replace(out.begin(), out.end(), '\t', ' ');
    std::replace(out.begin(), out.end(), '\n', ' ');
    return out;
  }

  const Analysis &a_;
  code::Disassembler dis_;
  std::map<uint64_t, std::vector<std::string>> comments_;
};
} // namespace

json listingsSection(const Analysis &a, const ReportOptions &options, ReportCounts &counts) {
  Lister lister(a);
  json out = json::array();
  size_t left = options.listingBudget;
  std::vector<uint32_t> order = wanted(a);
  std::vector<std::pair<uint32_t, std::string>> listed;
  for (uint32_t rva : order) {
    size_t n = 0;
    const code::Function *f = a.functionAt(rva);
    if (!f || left == 0)
      continue;
    if (auto text = lister.list(*f, left, &n)) {
      left -= n;
      counts.instructions += n;
      listed.emplace_back(rva, std::move(*text));
    }
  }
  // By address, whatever the order they were picked in.
  std::sort(listed.begin(), listed.end());
  for (auto &[rva, text] : listed)
    out.push_back({rva, std::move(text)});
  counts.listings = listed.size();
  return out;
}

} // namespace sb::report
