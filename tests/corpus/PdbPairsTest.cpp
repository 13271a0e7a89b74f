// Real MSVC binaries scored against their PDBs (../shared/pdbpairs, fetched
// into the cache; LLVM's MSVC test programs of corpus2 too): function starts,
// FuncInfos, catch handlers, throw sites, classes, vftables, hierarchy,
// constructors and destructors, each as precision / recall / F1 per file.
// SB_PDBPAIRS_VERBOSE=metric[,metric] lists each metric's misses and false
// positives.
#include "MsvcTruth.h"
#include "TestSupport.h"

#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/eh/EhModel.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

namespace sb::test {
namespace {

enum class Root { PdbPairs, Corpus2 };

struct PairFile {
  const char *path;   // relative to its root: the pdbpairs or the corpus2 cache
  bool hasEh;         // the binary has C++ EH of its own
  Root root = Root::PdbPairs;
};

const PairFile kPairs[] = {
    {"electron-winstaller@2.5.0/vendor/Setup.exe", true},
    {"electron-winstaller@2.6.4/vendor/Setup.exe", true},
    {"electron-winstaller@2.5.0/vendor/WriteZipToSetup.exe", false},
    {"electron-winstaller@2.6.4/vendor/WriteZipToSetup.exe", false},
    {"electron-winstaller@2.7.0/vendor/WriteZipToSetup.exe", false},
    {"registry-js@1.10.0/build/Release/registry.node", false},
    {"@devm33/node-pty@1.0.9/prebuilds/win32-x64/conpty.node", true},
    {"@devm33/node-pty@1.0.9/prebuilds/win32-x64/conpty_console_list.node", true},
    {"@devm33/node-pty@1.0.9/prebuilds/win32-x64/pty.node", true},
    {"@devm33/node-pty@1.0.9/prebuilds/win32-x64/winpty-agent.exe", true},
    {"@devm33/node-pty@1.0.9/prebuilds/win32-x64/winpty.dll", true},
    // LLVM's MSVC-built test programs (../shared/corpus2, debsrc set).
    {"debsrc/llvm-toolchain-16/llvm/test/tools/llvm-symbolizer/pdb/Inputs/test.exe", false, Root::Corpus2},
    {"debsrc/llvm-toolchain-16/llvm/unittests/DebugInfo/PDB/Inputs/SimpleTest.exe", false, Root::Corpus2},
    {"debsrc/llvm-toolchain-16/lldb/unittests/SymbolFile/PDB/Inputs/test-pdb.exe", false, Root::Corpus2},
    {"debsrc/llvm-toolchain-16/lldb/unittests/SymbolFile/PDB/Inputs/test-pdb-types.exe", false, Root::Corpus2},
    {"debsrc/llvm-toolchain-16/llvm/test/tools/llvm-symbolizer/pdb/Inputs/test-columns.exe", false, Root::Corpus2},
};

struct Metric {
  Score score;
  std::vector<std::string> missed, extra;
};

template <typename T>
std::string show(const T &v) {
  if constexpr (std::is_same_v<T, uint32_t>)
    return fmt::format("{:x}", v);
  else if constexpr (std::is_same_v<T, std::string>)
    return v;
  else
    return v.first + " : " + v.second;
}

template <typename T>
Metric compare(const std::set<T> &truth, const std::set<T> &found) {
  Metric m;
  m.score.truth = truth.size();
  m.score.found = found.size();
  for (const T &t : truth) {
    if (found.count(t))
      ++m.score.truePositives;
    else
      m.missed.push_back(show(t));
  }
  for (const T &f : found)
    if (!truth.count(f))
      m.extra.push_back(show(f));
  return m;
}

double f1(const Score &s) {
  double p = s.precision(), r = s.recall();
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

std::set<std::string> verboseMetrics() {
  std::set<std::string> out;
  const char *env = std::getenv("SB_PDBPAIRS_VERBOSE");
  std::string s = env ? env : "";
  for (size_t at = 0; at < s.size();) {
    size_t comma = s.find(',', at);
    out.insert(s.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    at = comma == std::string::npos ? s.size() : comma + 1;
  }
  return out;
}

// The names a recovered class scores as. A synthetic name (Class_<RVA>, for
// a class the binary names nowhere) stands for the classes that own its
// vftable in the PDB, unless the binary does name them (a type descriptor):
// then the synthetic name is a naming miss. A false vftable's class stays an
// extra under its placeholder name.
std::set<std::string> scoredNames(const cxx::ObjectModel &om, const cxx::Class &c, const MsvcTruth &t) {
  if (!c.nameIsSynthetic)
    return {c.name};
  std::set<std::string> out;
  for (int vi : c.vftables) {
    auto it = t.vftableClasses.find(om.vftables[vi].rva);
    if (it == t.vftableClasses.end())
      continue;
    for (const std::string &n : it->second)
      if (!t.typeDescribed.count(n))
        out.insert(n);
  }
  if (out.empty())
    out.insert(c.name);
  return out;
}

// Every metric for one file.
std::map<std::string, Metric> scoreFile(const Analysis &a, const MsvcTruth &t) {
  std::map<std::string, Metric> out;

  std::set<uint32_t> starts;
  for (const code::Function &f : a.functions())
    if (!t.unscoredStart(f.rva))
      starts.insert(f.rva);
  out["function starts"] = compare(t.functionStarts, starts);

  eh::EhModel eh = eh::analyzeEh(a);
  std::set<uint32_t> owners, catches, throws;
  for (const eh::FunctionEh &f : eh.functions) {
    if (!f.error.empty())
      continue;
    owners.insert(f.rva);
    for (const eh::TryInfo &tr : f.tries)
      for (const eh::CatchInfo &c : tr.catches)
        catches.insert(c.handlerRva);
  }
  for (const eh::ThrowSite &s : eh.throws)
    throws.insert(s.siteRva);
  out["funcinfos"] = compare(t.funcInfoOwners, owners);
  out["catch handlers"] = compare(t.catchHandlers, catches);
  out["throw sites"] = compare(t.throwSites, throws);

  cxx::ObjectModel om = cxx::analyzeObjectModel(a, {.virtualCalls = false, .layouts = false});
  std::set<std::string> names;
  std::set<uint32_t> vftables, ctors, dtors;
  std::set<std::pair<std::string, std::string>> edges;
  for (const cxx::Class &c : om.classes) {
    // A vftable the linker folded stands for several classes: the edges of
    // its class are not judged (which class derives from which is unknown).
    std::set<std::string> own = scoredNames(om, c, t);
    names.insert(own.begin(), own.end());
    for (const cxx::BaseRef &b : c.bases)
      if (std::set<std::string> base = scoredNames(om, om.classes[b.classIndex], t);
          own.size() == 1 && base.size() == 1)
        edges.emplace(*own.begin(), *base.begin());
    ctors.insert(c.constructors.begin(), c.constructors.end());
    dtors.insert(c.destructors.begin(), c.destructors.end());
    dtors.insert(c.deletingDestructors.begin(), c.deletingDestructors.end());
  }
  for (const cxx::Vftable &v : om.vftables)
    vftables.insert(v.rva);
  out["class names"] = compare(t.classNames, names);
  out["vftables"] = compare(t.vftables, vftables);
  // Edges are judged among the classes both sides know, so that a missed
  // class counts once (in class names), not again for each of its edges;
  // and only from classes whose type record the PDB has under the same name
  // (local classes are named there by their function's mangled scope).
  std::set<std::pair<std::string, std::string>> knownEdges, knownTruth;
  for (const auto &e : edges)
    if (t.basesKnown.count(e.first) && t.classNames.count(e.second))
      knownEdges.insert(e);
  for (const auto &e : t.hierarchy)
    if (names.count(e.first) && names.count(e.second))
      knownTruth.insert(e);
  out["hierarchy"] = compare(knownTruth, knownEdges);
  // The edges the binary can show: RTTI lists every base, so do the EH
  // catchable types of a thrown class; otherwise only a base with a vftable
  // of its own leaves a trace in code.
  std::set<std::pair<std::string, std::string>> visibleTruth;
  for (const auto &e : knownTruth)
    if (t.rtti.count(e.first) || t.polymorphic.count(e.second) ||
        (t.catchable.count(e.first) && t.catchable.count(e.second)))
      visibleTruth.insert(e);
  out["hierarchy (visible)"] = compare(visibleTruth, knownEdges);
  out["constructors"] = compare(t.constructors, ctors);
  out["destructors"] = compare(t.destructors, dtors);
  return out;
}

std::string rootDir(Root r) {
  const char *env = std::getenv(r == Root::PdbPairs ? "SWITCHBOARD_PDBPAIRS" : "SWITCHBOARD_CORPUS2");
  if (env)
    return env;
  return r == Root::PdbPairs ? SB_PDBPAIRS_DIR : SB_CORPUS2_DIR;
}

// The thresholds issue 11 set (F1 per file, where the file has such facts).
const std::map<std::string, double> kTargets = {
    {"funcinfos", 0.98},   {"catch handlers", 0.98}, {"throw sites", 0.95},
    {"class names", 0.97}, {"vftables", 0.98},       {"hierarchy", 0.95},
    {"constructors", 0.95}, {"destructors", 0.90},   {"function starts", 0.98},
    {"hierarchy (visible)", 0.95},
};

// Where a file is still below its target, the floor it must not fall
// under (its measured F1 less a rounding margin): a regression guard, and
// the list of what is left. Hierarchy: bases with no vftable of their own
// in /GR- builds (ATL_NO_VTABLE interfaces, plain structs: "hierarchy
// (visible)" leaves out what the binary cannot show), and the virtual
// bases of the iostreams (basic_ios below basic_istream): sibling bases
// write the shared virtual base's vfptr through vbtables the function does
// not install, so the order of the stores cannot say which derives from
// which.
struct KnownGap {
  const char *path, *metric;
  double floor;
};
const KnownGap kKnownGaps[] = {
    {"electron-winstaller@2.5.0/vendor/Setup.exe", "hierarchy", 0.71},
    {"electron-winstaller@2.6.4/vendor/Setup.exe", "hierarchy", 0.71},
    {"@devm33/node-pty@1.0.9/prebuilds/win32-x64/conpty.node", "hierarchy", 0.89},
    {"@devm33/node-pty@1.0.9/prebuilds/win32-x64/pty.node", "hierarchy", 0.88},
    {"@devm33/node-pty@1.0.9/prebuilds/win32-x64/conpty.node", "hierarchy (visible)", 0.92},
    {"@devm33/node-pty@1.0.9/prebuilds/win32-x64/pty.node", "hierarchy (visible)", 0.92},
    {"@devm33/node-pty@1.0.9/prebuilds/win32-x64/winpty.dll", "hierarchy (visible)", 0.94},
    {"@devm33/node-pty@1.0.9/prebuilds/win32-x64/winpty.dll", "hierarchy", 0.89},
};

void printScore(const std::string &metric, const Score &s) {
  std::printf("[pdbpairs]   %-16s truth %5zu found %5zu  P %.3f R %.3f F1 %.3f\n", metric.c_str(), s.truth, s.found,
              s.precision(), s.recall(), f1(s));
}

double floorFor(const std::string &path, const std::string &metric) {
  for (const KnownGap &g : kKnownGaps)
    if (path == g.path && metric == g.metric)
      return g.floor;
  return kTargets.at(metric);
}

TEST(PdbPairs, RecoveredFactsMatchThePdb) {
  namespace fs = std::filesystem;
  if (std::none_of(std::begin(kPairs), std::end(kPairs),
                   [](const PairFile &pf) { return fs::exists(rootDir(pf.root) + "/" + pf.path); }))
    GTEST_SKIP() << "MSVC PE+PDB pairs not fetched (" << rootDir(Root::PdbPairs) << ", "
                 << rootDir(Root::Corpus2) << ")";
  auto verbose = verboseMetrics();
  std::map<std::string, Score> total;
  for (const PairFile &pf : kPairs) {
    std::string path = rootDir(pf.root) + "/" + pf.path;
    if (!fs::exists(path)) {
      std::printf("[pdbpairs] %s: not fetched, skipped\n", pf.path);
      continue;
    }
    std::string pdb = fs::path(path).replace_extension(".pdb").string();
    auto a = Analysis::open(path);
    ASSERT_TRUE(a) << path;
    std::string err;
    auto truth = readMsvcTruth((*a)->image(), pdb, err);
    ASSERT_TRUE(truth) << pdb << ": " << err;
    auto metrics = scoreFile(**a, *truth);
    std::printf("[pdbpairs] %s\n", pf.path);
    for (const auto &[name, m] : metrics) {
      const Score &s = m.score;
      if (s.truth == 0 && s.found == 0)
        continue;   // nothing of the kind in this file
      printScore(name, s);
      if (s.truth > 0) {
        EXPECT_GE(f1(s), floorFor(pf.path, name)) << pf.path << ": " << name;
      }
      Score &tot = total[name];
      tot.truth += s.truth;
      tot.found += s.found;
      tot.truePositives += s.truePositives;
      if (verbose.count(name) || verbose.count("all")) {
        auto symbol = [&](const std::string &x) -> std::string {
          char *end = nullptr;
          auto it = truth->symbolNames.find(uint32_t(std::strtoul(x.c_str(), &end, 16)));
          return end && !*end && it != truth->symbolNames.end() ? "  " + it->second : "";
        };
        for (const std::string &x : m.missed)
          std::printf("[pdbpairs]     missed %s%s\n", x.c_str(), symbol(x).c_str());
        for (const std::string &x : m.extra)
          std::printf("[pdbpairs]     extra  %s%s\n", x.c_str(), symbol(x).c_str());
      }
    }
  }
  std::printf("[pdbpairs] all files\n");
  for (const auto &[name, s] : total)
    printScore(name, s);
}

} // namespace
} // namespace sb::test
