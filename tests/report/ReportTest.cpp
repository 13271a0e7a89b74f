// `switchboard report`: the HTML report of the gui_app fixtures (x64, x86)
// and of a stripped Wine comctl32.dll, opened in headless Chromium
// (browser_check.py drives chromedriver) and checked against the session's
// own graph and message flow: every procedure with its cases and send edges
// in the DOM, search, listings, no console errors, no network. Also: the
// page is self-contained, the same bytes come from a file and from its
// project database, and a damaged database fails clearly.
#include "TestSupport.h"

#include "switchboard/cxx/ObjectModel.h"
#include "switchboard/graph/Graph.h"
#include "switchboard/messages/MessageFlow.h"
#include "switchboard/names/Names.h"
#include "switchboard/support/Quote.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

using namespace sb;
using namespace sb::test;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
constexpr int kSkip = 77;

// Where the report tests keep their outputs: the screenshots are artifacts.
fs::path artifactDir() {
  fs::path d = fs::path(SB_REPORT_ARTIFACTS);
  fs::create_directories(d);
  return d;
}

std::string quote(const std::string &s) { return "'" + s + "'"; }

std::string slurp(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs the CLI; its exit code, stdout and stderr.
struct CliRun {
  int exit = 0;
  std::string out, err;
};
CliRun cli(const std::string &args, const std::string &tag) {
  CliRun r;
  const std::string err = (artifactDir() / (tag + ".stderr")).string();
  r.exit = runCommand(fmt::format("{} {} 2>{}", cliPath(), args, quote(err)), &r.out);
  r.err = slurp(err);
  return r;
}

std::string reportOf(const std::string &file, const std::string &out) {
  CliRun r = cli(fmt::format("report -q --no-pdb -o {} {}", quote(out), quote(file)), fs::path(out).stem().string());
  EXPECT_EQ(r.exit, 0) << file << ": " << r.err;
  return slurp(out);
}

// Each class of the object model with its number of vftables.
json classesOf(const Analysis &a) {
  json out = json::array();
  for (const cxx::Class &c : a.objectModel().classes)
    out.push_back({{"name", c.name}, {"vftables", c.vftables.size()}});
  return out;
}

// What the page must show, from the session the CLI builds (--no-pdb): each
// procedure with its case count, the sites of the message edges that reach
// it (at a case, matched by handler and message text, or at the procedure
// itself) and the functions they lie in; a procedure to search for, and a
// sending function with the labels of its send sites; the classes and the
// number of exception edges.
json expectationsOf(const std::string &file) {
  auto opened = Analysis::open(file);
  EXPECT_TRUE(opened) << file;
  const Analysis &a = **opened;
  const messages::MessageFlow &mf = a.messageFlow();
  const graph::Graph &g = a.graph();
  json procs = json::array();
  json sender;
  std::set<int> kinds;
  size_t ehEdges = 0;
  std::map<int, size_t> byKind;
  for (const graph::Edge &e : g.edges()) {
    kinds.insert(int(e.kind));
    byKind[int(e.kind)]++;
    ehEdges += e.kind == graph::EdgeKind::Throw || e.kind == graph::EdgeKind::Funclet;
  }
  // The kind the edge table is filtered by: messages, else the last kind there is.
  auto filter = byKind.count(int(graph::EdgeKind::Message)) ? *byKind.find(int(graph::EdgeKind::Message))
                                                            : *byKind.rbegin();
  for (size_t pi = 0; pi < mf.procedures.size(); ++pi) {
    const messages::Procedure &p = mf.procedures[pi];
    std::set<std::pair<uint64_t, std::string>> cases;
    // A case's edges land on its handler, the member function an ATL case
    // runs, or the handler of a WM_COMMAND id.
    for (const messages::Case &c : p.cases) {
      const std::string label = messages::messageText(a.apiTable(), c.message);
      cases.emplace(c.handlerRva, label);
      if (c.handlerFunction)
        cases.emplace(c.handlerFunction, label);
      for (const auto &[id, handler] : c.commands)
        cases.emplace(handler, label);
    }
    json sites = json::array();
    std::set<uint64_t> senders;
    for (const graph::Edge &e : g.edges()) {
      if (e.kind != graph::EdgeKind::Message || !e.toModule.empty() || e.toSet != graph::Edge::kNoSet)
        continue;
      if (!cases.count({e.to, e.label}) && e.to != p.rva)
        continue;
      sites.push_back(e.from);
      const code::Function *f = a.functionContaining(uint32_t(e.from));
      const uint64_t fn = f ? f->rva : e.from;
      senders.insert(fn);
      if (sender.is_null())
        sender = {{"proc_index", pi}, {"function", fn}, {"labels", json::object()}};
      if (sender["proc_index"] == pi && sender["function"] == fn)
        sender["labels"][std::to_string(e.from)].push_back(e.label);
    }
    std::string name = a.names().textAt(p.rva).value_or(a.describe(p.rva));
    procs.push_back({{"rva", p.rva}, {"name", name}, {"cases", p.cases.size()}, {"send_sites", sites},
                     {"senders", senders.size()}});
  }
  json out = {{"procedures", procs}, {"edge_kinds", kinds.size()},
              {"filter_kind", {filter.first, filter.second}}, {"classes", classesOf(a)}, {"eh_edges", ehEdges},
              {"image_base", a.image().imageBase()}};
  // What to search for: a procedure, else a structor.
  if (!procs.empty())
    out["search"] = {{"name", procs[0]["name"]}, {"rva", procs[0]["rva"]}};
  for (const cxx::Structor &st : a.objectModel().structors)
    if (out["search"].is_null() && a.names().at(st.rva))
      out["search"] = {{"name", a.names().at(st.rva)->text}, {"rva", st.rva}};
  if (!sender.is_null())
    out["sender"] = sender;
  return out;
}

// Opens the report in Chromium and checks it; false when Chromium is missing.
bool checkInBrowser(const std::string &file, const std::string &html, const std::string &tag, double maxLoadMs = 0) {
  const std::string expect = (artifactDir() / (tag + ".expect.json")).string();
  std::ofstream(expect) << expectationsOf(file).dump(1);
  const std::string shot = (artifactDir() / (tag + ".png")).string();
  std::string out;
  int rc = runCommand(fmt::format("python3 {} --html {} --expect {} --screenshot {} --max-load-ms {} 2>&1",
                                  quote(SB_REPORT_DRIVER), quote(html), quote(expect), quote(shot), maxLoadMs),
                      &out);
  std::printf("[report] %s:\n%s", tag.c_str(), out.c_str());
  if (rc == kSkip)
    return false;
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(fs::exists(shot)) << shot;
  return true;
}

void checkSelfContained(const std::string &html) {
  EXPECT_NE(html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                      "script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:\">"),
            std::string::npos);
  // Nothing the page would load: no src, href or url() but a fragment or data:.
  std::regex ref(R"re((?:src|href)\s*=\s*["']?([^"'\s>]*)|url\(\s*["']?([^"')]*))re", std::regex::icase);
  for (auto it = std::sregex_iterator(html.begin(), html.end(), ref); it != std::sregex_iterator(); ++it) {
    std::string target = (*it)[1].matched ? (*it)[1].str() : (*it)[2].str();
    EXPECT_TRUE(target.empty() || target[0] == '#' || target.rfind("data:", 0) == 0) << "loads " << target;
  }
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  // The data cannot end its script element: two scripts, two ends.
  size_t ends = 0;
  for (size_t at = html.find("</script"); at != std::string::npos; at = html.find("</script", at + 1))
    ++ends;
  EXPECT_EQ(ends, 2u);
}

bool haveBrowser() { return runCommand("command -v chromium >/dev/null && command -v chromedriver >/dev/null") == 0; }
} // namespace

TEST(Report, ScriptJsonKeepsTheDataInItsElement) {
  const std::string data = R"({"name":"</script><script>alert(1)</script><!--"})";
  const std::string safe = scriptJson(data);
  EXPECT_EQ(safe.find('<'), std::string::npos);
  EXPECT_EQ(json::parse(safe), json::parse(data));
}

TEST(Report, GuiAppInChromium) {
  for (const char *arch : {"x64", "x86"}) {
    SCOPED_TRACE(arch);
    const std::string file = fixturePath(arch, "gui_app.exe");
    const std::string html = (artifactDir() / fmt::format("gui_app_{}.html", arch)).string();
    const std::string text = reportOf(file, html);
    ASSERT_FALSE(text.empty());
    checkSelfContained(text);
    if (!haveBrowser())
      GTEST_SKIP() << "chromium or chromedriver missing (scripts/setup.sh installs them)";
    checkInBrowser(file, html, fmt::format("gui_app_{}", arch), 2000);
  }
}

// C++ classes and exceptions: shapes has a class hierarchy, throws and
// catches, and no window procedures.
TEST(Report, ShapesInChromium) {
  for (const char *arch : {"x64", "x86"}) {
    SCOPED_TRACE(arch);
    const std::string file = fixturePath(arch, "shapes.exe");
    const std::string html = (artifactDir() / fmt::format("shapes_{}.html", arch)).string();
    const std::string text = reportOf(file, html);
    ASSERT_FALSE(text.empty());
    checkSelfContained(text);
    if (!haveBrowser())
      GTEST_SKIP() << "chromium or chromedriver missing (scripts/setup.sh installs them)";
    checkInBrowser(file, html, fmt::format("shapes_{}", arch), 2000);
  }
}

TEST(Report, SameBytesFromTheFileAndItsDatabase) {
  for (const char *arch : {"x64", "x86"}) {
    SCOPED_TRACE(arch);
    const std::string file = fixturePath(arch, "gui_app.exe");
    const std::string db = (artifactDir() / fmt::format("gui_app_{}.sbdb", arch)).string();
    fs::remove(db);
    CliRun r = cli(fmt::format("analyze -q --no-pdb -o {} {}", quote(db), quote(file)),
                   "analyze_" + fs::path(db).stem().string());
    ASSERT_EQ(r.exit, 0) << r.err;
    const std::string fromFile = reportOf(file, (artifactDir() / "from_file.html").string());
    const std::string fromDb = reportOf(db, (artifactDir() / "from_db.html").string());
    EXPECT_FALSE(fromFile.empty());
    EXPECT_TRUE(fromFile == fromDb) << "the reports differ (" << fromFile.size() << " and " << fromDb.size()
                                    << " bytes)";
    // And the same bytes twice: nothing in it depends on the time or the run.
    EXPECT_TRUE(fromFile == reportOf(file, (artifactDir() / "again.html").string()));
  }
}

TEST(Report, DamagedDatabaseFailsClearly) {
  const std::string file = fixturePath("x64", "gui_app.exe");
  const std::string db = (artifactDir() / "damaged_source.sbdb").string();
  fs::remove(db);
  ASSERT_EQ(cli(fmt::format("analyze -q --no-pdb -o {} {}", quote(db), quote(file)), "analyze_damaged").exit, 0);
  const std::string cut = (artifactDir() / "damaged.sbdb").string();
  fs::remove(cut);
  fs::copy_file(db, cut);
  fs::resize_file(cut, fs::file_size(db) / 50);
  const std::string out = (artifactDir() / "damaged.html").string();
  fs::remove(out);
  CliRun r = cli(fmt::format("report -q -o {} {}", quote(out), quote(cut)), "damaged");
  EXPECT_EQ(r.exit, 1) << r.out;
  EXPECT_EQ(r.err.rfind("switchboard: error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(cut), std::string::npos) << "the message names the file: " << r.err;
  EXPECT_FALSE(fs::exists(out)) << "no report is written";
}

TEST(Report, StrippedComctl32InChromium) {
  const std::string dll = corpusDir() + "/wine-x64/comctl32.dll";
  if (!fs::exists(dll))
    GTEST_SKIP() << "corpus not fetched (" << dll << ")";
  const std::string stripped = (artifactDir() / "comctl32.dll").string();
  ASSERT_EQ(runCommand(fmt::format("llvm-objcopy-16 --strip-all {} {}", quote(dll), quote(stripped))), 0);
  const std::string html = (artifactDir() / "comctl32.html").string();
  auto start = std::chrono::steady_clock::now();
  const std::string text = reportOf(stripped, html);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[report] comctl32.dll: %zu bytes, generated in %.1f s\n", text.size(), secs);
  ASSERT_FALSE(text.empty());
  checkSelfContained(text);
  // A few MB at most.
  EXPECT_LT(text.size(), 8u << 20);
  if (!haveBrowser())
    GTEST_SKIP() << "chromium or chromedriver missing (scripts/setup.sh installs them)";
  checkInBrowser(stripped, html, "comctl32", 2000);
}
