// `switchboard analyze FILE [MORE...] [-o OUT.sbdb] [--pdb PDB]`: every
// analysis of each file, once, into one project database that every other
// command accepts in place of FILE; with several files, also the edges
// from a client call in one to the server routine or port loop in another.
#include "Common.h"

#include "switchboard/db/ProjectDb.h"

#include <unistd.h>

namespace sb::cli {
namespace {
struct AnalyzeOptions : CommonOptions {
  std::string out;
  std::vector<std::string> more;
};

json summaryJson(const std::string &out, const db::WriteSummary &s) {
  json modules = json::array();
  size_t functions = 0, names = 0, edges = 0, classes = 0;
  for (const db::ModuleSummary &m : s.modules) {
    modules.push_back({{"file", m.fileName}, {"functions", m.functions}, {"names", m.names}, {"edges", m.edges},
                       {"classes", m.classes}});
    functions += m.functions, names += m.names, edges += m.edges, classes += m.classes;
  }
  return {{"database", out}, {"bytes", s.bytes},  {"functions", functions}, {"names", names},
          {"edges", edges},  {"classes", classes}, {"modules", modules},     {"links", s.links}};
}

void printSummary(const std::string &out, const db::WriteSummary &s, bool namesFromPdb) {
  if (s.modules.size() == 1) {
    const db::ModuleSummary &m = s.modules.front();
    fmt::print("wrote {} ({:.1f} MB): {} functions, {} names, {} edges, {} classes{}\n", out, s.bytes / 1e6,
               m.functions, m.names, m.edges, m.classes, namesFromPdb ? " (names from the PDB)" : "");
    return;
  }
  fmt::print("wrote {} ({:.1f} MB): {} modules, {} edge{} between them\n", out, s.bytes / 1e6, s.modules.size(),
             s.links, s.links == 1 ? "" : "s");
  for (const db::ModuleSummary &m : s.modules)
    fmt::print("  {:<24} {} functions, {} names, {} edges, {} classes\n", m.fileName, m.functions, m.names, m.edges,
               m.classes);
}
} // namespace

Command analyzeCommand() {
  auto o = std::make_shared<AnalyzeOptions>();
  Command cmd{"analyze", "Run every analysis once and write a project database (SQLite) for the other commands",
              Needs::Analysis, {}, o,
              [o](CLI::App &app) {
                app.add_option("MORE", o->more, "More files into the same database (RPC calls and port "
                                                "messages are linked between them)");
                app.add_option("-o,--output", o->out, "The database to write (default: FILE.sbdb)");
              },
              nullptr};
  cmd.run = [o, cmd](const Context &c) -> int {
    std::vector<std::unique_ptr<Analysis>> owned;
    std::vector<db::ModuleInput> inputs = {{c.analysis, o->file}};
    // --pdb names FILE's PDB; the other files' PDBs are looked for.
    Command forMore = cmd;
    auto moreOptions = std::make_shared<AnalyzeOptions>(*o);
    moreOptions->pdb.clear();
    forMore.options = moreOptions;
    for (const std::string &f : o->more) {
      auto a = db::isProjectDb(f) ? nullptr : openFor(forMore, f, c.api);
      if (db::isProjectDb(f))
        reportError("{} is already a project database", f);
      if (!a)
        return db::isProjectDb(f) ? kExitUsage : kExitFailure;
      inputs.push_back({a.get(), f});
      owned.push_back(std::move(a));
    }
    if (c.analysis->fromStore()) {
      reportError("{} is already a project database", o->file);
      return kExitUsage;
    }
    const std::string out = o->out.empty() ? o->file + ".sbdb" : o->out;
    db::WriteOptions wo;
    const bool bar = !o->quiet && isatty(STDERR_FILENO);
    wo.progress = [bar, &c](const char *step, size_t i, size_t n) {
      c.phase(step);   // --stats: the time of each step
      if (bar) {
        const size_t width = 24, done = width * i / n;
        fmt::print(stderr, "\r\033[K[{}{}] {}/{} {}", std::string(done, '#'), std::string(width - done, '.'), i + 1, n,
                   step);
        std::fflush(stderr);
      }
    };
    auto written = db::writeProjectDb(inputs, out, wo);
    if (bar)
      fmt::print(stderr, "\r\033[K");
    if (!written) {
      reportError("{}", written.error());
      return kExitFailure;
    }
    c.phase("render");
    if (o->json)
      printJson(summaryJson(out, *written));
    else
      printSummary(out, *written, c.analysis->pdb() != nullptr);
    return kExitOk;
  };
  return cmd;
}

} // namespace sb::cli
