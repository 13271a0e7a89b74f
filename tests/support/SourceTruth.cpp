#include "SourceTruth.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace sb::test {

namespace {
std::vector<std::string> words(const std::string &s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;)
    out.push_back(w);
  return out;
}

// The text of every `@tag` on a line: "@edge message -> A @edge callback -> B"
// gives ("edge", "message -> A"), ("edge", "callback -> B").
std::vector<std::pair<std::string, std::string>> tagsOf(const std::string &line) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t comment = line.find("//");
  if (comment == std::string::npos)
    return out;
  size_t at = line.find('@', comment);
  while (at != std::string::npos) {
    size_t next = line.find(" @", at + 1);
    std::string body = line.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1);
    size_t space = body.find(' ');
    out.emplace_back(body.substr(0, space), space == std::string::npos ? "" : body.substr(space + 1));
    at = next == std::string::npos ? next : next + 1;
  }
  return out;
}
} // namespace

SourceTruth readSourceTruth(const std::vector<std::string> &sources) {
  SourceTruth st;
  // PROC -> (file, line, names) in order; "end" closes.
  std::map<std::string, std::vector<std::tuple<std::string, uint32_t, std::set<std::string>>>> starts;
  for (const std::string &src : sources) {
    std::ifstream in(std::string(SB_FIXTURE_SRC_DIR) + "/" + src);
    st.files.insert(src);
    uint32_t lineNo = 0;
    for (std::string line; std::getline(in, line);) {
      ++lineNo;
      for (const auto &[tag, body] : tagsOf(line)) {
        std::vector<std::string> w = words(body);
        if (tag == "edge" && w.size() >= 2 && w[1] == "->") {
          auto &specs = st.edges[{src, lineNo, w[0]}];
          specs.insert(specs.end(), w.begin() + 2, w.end());
        } else if (tag == "region" && !w.empty()) {
          starts[w[0]].emplace_back(src, lineNo, std::set<std::string>(w.begin() + 1, w.end()));
        } else if (tag == "name" && w.size() >= 3) {
          st.names.push_back({src, lineNo, w});
        } else if (tag == "static" && w.size() >= 3) {
          st.statics.push_back({src, lineNo, w});
        }
      }
    }
  }
  for (auto &[proc, list] : starts)
    for (size_t i = 0; i + 1 < list.size(); ++i) {
      auto &[file, line, names] = list[i];
      if (names.count("end"))
        continue;
      st.regions[proc].push_back({file, line, std::get<1>(list[i + 1]), names});
    }
  return st;
}

const SourceTruth::Region *SourceTruth::region(const std::string &proc, const std::string &name) const {
  auto it = regions.find(proc);
  if (it == regions.end())
    return nullptr;
  for (const Region &r : it->second)
    if (r.names.count(name))
      return &r;
  return nullptr;
}

std::vector<std::pair<std::string, const SourceTruth::Region *>> SourceTruth::regionsAt(const std::string &file,
                                                                                        uint32_t line) const {
  std::vector<std::pair<std::string, const Region *>> out;
  for (const auto &[proc, list] : regions)
    for (const Region &r : list)
      if (r.file == file && line >= r.begin && line < r.end)
        out.emplace_back(proc, &r);
  return out;
}

const PdbProc *procNamed(const PdbTruth &pdb, const std::string &name) {
  for (const PdbProc &p : pdb.procs)
    if (!p.isThunk && p.name == name)
      return &p;
  // x86: "_WndProc@16", "@f@8".
  for (const PdbProc &p : pdb.procs) {
    if (p.isThunk)
      continue;
    std::string n = p.name;
    if (!n.empty() && (n[0] == '_' || n[0] == '@'))
      n = n.substr(1);
    if (size_t at = n.rfind('@'); at != std::string::npos && at > 0)
      n = n.substr(0, at);
    if (n == name)
      return &p;
  }
  return nullptr;
}

LinkMap readLinkMap(const std::string &mapPath) {
  LinkMap out;
  std::ifstream in(mapPath);
  uint64_t base = 0;
  for (std::string line; std::getline(in, line);) {
    if (size_t at = line.find("Preferred load address is "); at != std::string::npos) {
      base = std::stoull(line.substr(at + 26), nullptr, 16);
      continue;
    }
    // " 0001:00000240       ?dtor$5@?0??mayThrow@@YAXH@Z@4HA 0000000140001240     shapes.obj"
    std::vector<std::string> w = words(line);
    if (w.size() < 3 || w[0].size() != 13 || w[0][4] != ':' || w[2].size() != 16 || !base)
      continue;
    uint64_t va = std::stoull(w[2], nullptr, 16);
    if (va >= base)
      out.emplace(w[1], uint32_t(va - base));
  }
  return out;
}

bool matchesSpec(const SourceTruth &st, const PdbTruth &pdb, const LinkMap &map, const std::string &spec, uint32_t rva) {
  if (size_t bar = spec.find('|'); bar != std::string::npos)
    return matchesSpec(st, pdb, map, spec.substr(0, bar), rva) || matchesSpec(st, pdb, map, spec.substr(bar + 1), rva);
  size_t hash = spec.find('#');
  if (hash == std::string::npos) {
    if (!spec.empty() && spec.back() == '*') {
      std::string prefix = spec.substr(0, spec.size() - 1);
      for (auto it = map.lower_bound(prefix); it != map.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
        if (it->second == rva)
          return true;
      return false;
    }
    for (auto [it, end] = map.equal_range(spec); it != end; ++it)
      if (it->second == rva)
        return true;
    for (const PdbProc &p : pdb.procs)
      if (!p.isThunk && p.name == spec && p.rva == rva)
        return true;
    const PdbProc *p = procNamed(pdb, spec);
    return p && p->rva == rva;
  }
  const SourceTruth::Region *r = st.region(spec.substr(0, hash), spec.substr(hash + 1));
  const PdbLine *l = pdb.lineAt(rva);
  if (!r || !l)
    return false;
  // A catch funclet's prologue carries its parent's closing line: the
  // funclet's code is the next row's.
  bool funclet = false;
  for (const auto &[name, at] : map)
    funclet |= at == rva && name.rfind("?catch$", 0) == 0;
  if (funclet) {
    auto next = std::upper_bound(pdb.lines.begin(), pdb.lines.end(), rva,
                                 [](uint32_t v, const PdbLine &x) { return v < x.rva; });
    for (; next != pdb.lines.end() && next->line == l->line; ++next) {
    }
    if (next != pdb.lines.end())
      l = &*next;
  }
  return l->file == r->file && l->line >= r->begin && l->line < r->end;
}

std::vector<std::vector<std::string>> sourceTags(const std::string &file, const std::string &kind) {
  std::ifstream in(std::string(SB_FIXTURE_SRC_DIR) + "/" + file);
  std::vector<std::vector<std::string>> out;
  for (std::string line; std::getline(in, line);) {
    size_t at = line.find("@" + kind + " ");
    if (at == std::string::npos)
      continue;
    std::istringstream words(line.substr(at + kind.size() + 2));
    std::vector<std::string> w;
    for (std::string x; words >> x;)
      w.push_back(x);
    out.push_back(std::move(w));
  }
  return out;
}

} // namespace sb::test
